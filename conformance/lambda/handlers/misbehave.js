// Handlers that break the contract: an answer that is not the event, and one too slow.
const { record } = require("./record");

exports.malformed = async (event) => {
  record("malformed", event);
  return "this is not an event";
};

exports.slow = async (event) => {
  record("slow", event);
  await new Promise((resolve) => setTimeout(resolve, 4000));
  return event;
};
