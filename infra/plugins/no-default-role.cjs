// Local osls plugin (serverless.yml `plugins`): removes the framework's default Lambda role when no function uses it.
// CommonJS because osls loads local plugins with require().
/* global module */

/**
 * osls generates `IamRoleLambdaExecution` whenever a function has no `role` of its own, and
 * serverless-iam-roles-per-function needs it as the template it clones each function's role from — so it is still
 * in the stack after every function got its own role. Nothing uses it, yet it would be deployed with the logs
 * permissions of every function and the SQS permissions of every event source (every queue), ready to be attached to
 * anything that can pass a role: a standing, over-broad role is exactly what a least-privilege review rejects.
 *
 * After the resources of serverless.yml are merged (so a reference from `resources:` counts), the role is deleted if
 * nothing in the template refers to it. If something does (a function without `iamRoleStatements`, a custom
 * resource), it is kept with a warning, and test/security/template.test.ts fails naming the function: every function
 * must have its own role.
 */
class NoDefaultRole {
  constructor(serverless, _options, { log } = {}) {
    this.serverless = serverless;
    this.log = log;
    this.hooks = {
      'before:aws:package:finalize:saveServiceState': () => this.dropUnusedDefaultRole(),
    };
  }

  dropUnusedDefaultRole() {
    const provider = this.serverless.getProvider('aws');
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const roleId = provider.naming.getRoleLogicalId();
    if (!template.Resources || !template.Resources[roleId]) return;

    const { [roleId]: _role, ...others } = template.Resources;
    // A logical id as a whole word: `{"Ref":"X"}`, `["X","Arn"]`, DependsOn "X", `${X.Arn}` in a !Sub; not the
    // per-function roles `<Function>IamRoleLambdaExecution`.
    const reference = new RegExp(`(?<![A-Za-z0-9])${roleId}(?![A-Za-z0-9])`);
    const users = Object.entries(others)
      .filter(([, resource]) => reference.test(JSON.stringify(resource)))
      .map(([id]) => id);
    if (reference.test(JSON.stringify({ Outputs: template.Outputs, Conditions: template.Conditions }))) users.push('Outputs/Conditions');
    if (users.length > 0) {
      this.log?.warning?.(`${roleId} is kept: used by ${users.join(', ')} (give every function its own iamRoleStatements)`);
      return;
    }
    delete template.Resources[roleId];
    this.log?.info?.(`${roleId} removed: every function has its own role`);
  }
}

module.exports = NoDefaultRole;
