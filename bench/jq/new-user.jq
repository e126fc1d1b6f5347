# IAM user created (vigil rule iam-user-created).
def new_user:
  .eventSource == "iam.amazonaws.com" and .eventName == "CreateUser";
