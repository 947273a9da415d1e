// A custom message trigger as the Cognito guide writes them: branded sign-up and invitation
// mails, a branded SMS, and (wrongly) a password-reset mail without the code placeholder.
const { record } = require("./record");

exports.handler = async (event) => {
  record("custommessage", event);
  const { codeParameter, usernameParameter } = event.request;
  switch (event.triggerSource) {
    case "CustomMessage_SignUp":
    case "CustomMessage_ResendCode":
      event.response.emailSubject = "Welcome to Acme";
      event.response.emailMessage = `<p>Thanks for joining Acme. Your code is ${codeParameter}.</p>`;
      event.response.smsMessage = `Acme code: ${codeParameter}`;
      break;
    case "CustomMessage_AdminCreateUser":
      event.response.emailSubject = "Your Acme account";
      event.response.emailMessage = `Hello ${usernameParameter}, your temporary password is ${codeParameter}`;
      break;
    case "CustomMessage_ForgotPassword":
      event.response.emailSubject = "Reset at Acme";
      event.response.emailMessage = "Follow the link we sent you.";
      break;
  }
  return event;
};
