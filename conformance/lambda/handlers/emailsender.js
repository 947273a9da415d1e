// A custom email sender as the Cognito guide writes it: the code arrives encrypted with the
// AWS Encryption SDK under the pool's KMS key, and the handler decrypts it with a KMS keyring
// (REQUIRE_ENCRYPT_ALLOW_DECRYPT, as the guide says: Cognito's messages are not key-committing)
// before "sending" it — here, recording it for the test to read.
const { KmsKeyringNode, buildClient, CommitmentPolicy } = require("@aws-crypto/client-node");
const { record } = require("./record");

const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT);
const keyring = new KmsKeyringNode({ keyIds: [process.env.KEY_ARN] });

exports.handler = async (event) => {
  let plainTextCode = null;
  let context = null;
  if (event.request.code) {
    const { plaintext, messageHeader } = await decrypt(keyring, Buffer.from(event.request.code, "base64"));
    plainTextCode = Buffer.from(plaintext).toString("utf-8");
    context = messageHeader.encryptionContext;
  }
  record("emailsender", event, null, { code: plainTextCode, encryptionContext: context });
};
