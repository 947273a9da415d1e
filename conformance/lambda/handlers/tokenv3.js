// A V3_0 pre token generation trigger: machine-to-machine tokens get a claim and a scope.
const { record } = require("./record");

exports.handler = async (event) => {
  record("tokenv3", event);
  event.response = {
    claimsAndScopeOverrideDetails: {
      accessTokenGeneration: { claimsToAddOrOverride: { caller: "batch-job" }, scopesToAdd: ["orders/audit"] },
    },
  };
  return event;
};
