import type { NotifyConfig, Route } from '../config/notify';
import { type Alert, atLeast } from './schema';

const ruleMatches = (patterns: string[], ruleId: string) =>
  patterns.some((p) => (p.endsWith('*') ? ruleId.startsWith(p.slice(0, -1)) : p === ruleId));

function routeMatches(route: Route, alert: Alert, accountName: string | undefined): boolean {
  if (route.severities && !route.severities.includes(alert.severity)) return false;
  if (route.minSeverity && !atLeast(alert.severity, route.minSeverity)) return false;
  if (route.accounts && !route.accounts.some((a) => a === alert.account || (accountName !== undefined && a === accountName)))
    return false;
  if (route.categories && !route.categories.some((c) => alert.categories.includes(c))) return false;
  if (route.rules && !ruleMatches(route.rules, alert.ruleId)) return false;
  return true;
}

/**
 * The Slack channels an alert goes to: the union of the channels of every matching route, else the default channels;
 * none when the alert is below `notify.minSeverity`. Order is stable (configuration order) so logs read the same.
 */
export function routeAlert(alert: Alert, config: NotifyConfig, accountName?: string): string[] {
  if (!atLeast(alert.severity, config.minSeverity)) return [];
  const name = accountName ?? config.accountNames[alert.account];
  const matched = config.routes.filter((r) => routeMatches(r, alert, name)).flatMap((r) => r.channels);
  return [...new Set(matched.length > 0 ? matched : config.defaultChannels)];
}
