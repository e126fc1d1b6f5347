# IAM access key created (vigil rule access-key-created).
def access_key:
  .eventSource == "iam.amazonaws.com" and .eventName == "CreateAccessKey";
