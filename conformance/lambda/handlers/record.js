// Appends what a handler received to the file the tests read (JANUS_TEST_EVENTS).
const fs = require("fs");
// `context` (optional) names the deployed function that ran (one handler may be deployed twice).
exports.record = (fn, event, context) =>
  fs.appendFileSync(process.env.JANUS_TEST_EVENTS,
    JSON.stringify({ fn, functionName: context ? context.functionName : null, event }) + "\n");
