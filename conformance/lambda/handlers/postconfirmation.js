// A post confirmation trigger that creates the application's own record (here: the event is
// recorded) and fails for users whose name says so. (Node.js: serverless-offline's Python
// runner hangs on a raised exception instead of answering with the error, so the handlers
// that fail are written in Node.js; the Python ones succeed.)
const { record } = require("./record");

exports.handler = async (event) => {
  record("postconfirmation", event);
  if (event.userName.startsWith("postfail")) {
    throw new Error("Could not create the profile");
  }
  return event;
};
