# IAM policy changed (vigil rule iam-policy-change; CIS 4.4 plus default versions and permissions boundaries).
def policy_change:
  .eventSource == "iam.amazonaws.com"
  and (.eventName | IN(
    "PutUserPolicy", "PutGroupPolicy", "PutRolePolicy",
    "DeleteUserPolicy", "DeleteGroupPolicy", "DeleteRolePolicy",
    "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
    "AttachUserPolicy", "AttachGroupPolicy", "AttachRolePolicy",
    "DetachUserPolicy", "DetachGroupPolicy", "DetachRolePolicy",
    "SetDefaultPolicyVersion",
    "PutUserPermissionsBoundary", "PutRolePermissionsBoundary",
    "DeleteUserPermissionsBoundary", "DeleteRolePermissionsBoundary"));
