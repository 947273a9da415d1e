// The three custom authentication functions of a one-time-code sign-in, as AWS's
// passwordless samples write them: Define allows three attempts, Create makes a code (kept in
// the private parameters; a real one mails it), Verify compares the answer.
const crypto = require("crypto");
const { record } = require("./record");

exports.define = async (event) => {
  record("define", event);
  const session = event.request.session;
  const last = session[session.length - 1];
  if (last && last.challengeName === "SRP_A") {
    // A client that starts with its password (CUSTOM_AUTH with SRP_A): check it first.
    event.response.issueTokens = false;
    event.response.failAuthentication = false;
    event.response.challengeName = "PASSWORD_VERIFIER";
  } else if (last && last.challengeName === "PASSWORD_VERIFIER" && last.challengeResult === true) {
    event.response.issueTokens = false;
    event.response.failAuthentication = false;
    event.response.challengeName = "CUSTOM_CHALLENGE";
  } else if (last && last.challengeResult === true) {
    event.response.issueTokens = true;
    event.response.failAuthentication = false;
  } else if (session.length >= 3) {
    event.response.issueTokens = false;
    event.response.failAuthentication = true;
  } else {
    event.response.issueTokens = false;
    event.response.failAuthentication = false;
    event.response.challengeName = "CUSTOM_CHALLENGE";
  }
  return event;
};

exports.create = async (event) => {
  const code = crypto.randomInt(100000, 1000000).toString();
  event.response.publicChallengeParameters = { hint: "the code we sent" };
  event.response.privateChallengeParameters = { answer: code };
  event.response.challengeMetadata = `CODE-${event.request.session.length + 1}`;
  record("create", event); // with its response: the tests read the code here
  return event;
};

exports.verify = async (event) => {
  record("verify", event);
  event.response.answerCorrect = event.request.privateChallengeParameters.answer === event.request.challengeAnswer;
  return event;
};
