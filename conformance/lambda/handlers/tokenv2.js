// A V2_0 pre token generation trigger: claims on both tokens (JSON values allowed), a scope
// added and one removed.
const { record } = require("./record");

exports.handler = async (event) => {
  record("tokenv2", event);
  event.response = {
    claimsAndScopeOverrideDetails: {
      idTokenGeneration: { claimsToAddOrOverride: { tenant: "acme", plan: { tier: "gold", seats: 5 } } },
      accessTokenGeneration: {
        claimsToAddOrOverride: { tenant: "acme" },
        scopesToAdd: ["orders/read"],
        scopesToSuppress: ["phone"],
      },
    },
  };
  return event;
};
