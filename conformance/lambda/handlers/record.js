// Appends what a handler received to the file the tests read (JANUS_TEST_EVENTS).
const fs = require("fs");
// `context` (optional) names the deployed function that ran (one handler may be deployed twice);
// `found` (optional) is what the handler worked out (a decrypted code).
exports.record = (fn, event, context, found) =>
  fs.appendFileSync(process.env.JANUS_TEST_EVENTS,
    JSON.stringify({ fn, functionName: context ? context.functionName : null, event, found }) + "\n");
