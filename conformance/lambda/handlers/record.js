// Appends what a handler received to the file the tests read (JANUS_TEST_EVENTS).
const fs = require("fs");
exports.record = (fn, event) => fs.appendFileSync(process.env.JANUS_TEST_EVENTS, JSON.stringify({ fn, event }) + "\n");
