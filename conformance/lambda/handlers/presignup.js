// A pre sign-up trigger as the Cognito guide writes them: refuse a domain, auto-confirm
// (and verify the email of) another, and (wrongly) verify without confirming for a third.
const { record } = require("./record");

exports.handler = async (event, context) => {
  record("presignup", event, context);
  const email = event.request.userAttributes.email || "";
  if (email.endsWith("@refused.example")) {
    throw new Error("Registration from this domain is not allowed.");
  }
  if (email.endsWith("@verify-only.example")) {
    event.response.autoVerifyEmail = true;
  }
  if (email.endsWith("@auto.example")) {
    event.response.autoConfirmUser = true;
    event.response.autoVerifyEmail = true;
  }
  return event;
};

// An older version of the handler, still deployed in one region: it confirms everybody.
exports.drifted = async (event) => {
  record("presignup-drifted", event);
  event.response.autoConfirmUser = true;
  return event;
};
