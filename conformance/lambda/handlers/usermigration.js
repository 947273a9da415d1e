// A user migration trigger over a legacy store, as the Cognito guide writes them: names
// starting "legacy-" exist there with the password "legacy-pw" (which Janus's password policy
// would refuse: a migrated password is taken as it is); "legacy-reset-…" must reset.
const { record } = require("./record");

exports.handler = async (event) => {
  record("usermigration", event);
  const name = event.userName;
  if (!name.startsWith("legacy-")) {
    throw new Error("Bad password");
  }
  if (event.triggerSource === "UserMigration_Authentication" && event.request.password !== "legacy-pw") {
    throw new Error("Bad password");
  }
  event.response.userAttributes = { email: `${name}@legacy.example`, email_verified: "true", name: "From Legacy" };
  event.response.finalUserStatus =
    event.triggerSource === "UserMigration_Authentication" && !name.startsWith("legacy-reset-") ? "CONFIRMED" : "RESET_REQUIRED";
  event.response.messageAction = "SUPPRESS";
  return event;
};
