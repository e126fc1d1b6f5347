# Root account used (vigil rule root-account-usage; CIS 4.3): a call by root itself, not by a service on its behalf.
def root_usage:
  .userIdentity.type == "Root"
  and .userIdentity.invokedBy == null
  and .eventType != "AwsServiceEvent";
