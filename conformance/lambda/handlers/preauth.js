// A pre authentication trigger: block a sign-in the client metadata marks.
const { record } = require("./record");

exports.handler = async (event) => {
  record("preauth", event);
  if ((event.request.validationData || {}).block === "yes") {
    throw new Error("Sign-in blocked by policy");
  }
  return event;
};
