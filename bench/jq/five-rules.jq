# The five rules in one pass over a CloudTrail log file, the way people run them today:
#
#   gzip -dc FILE.json.gz | jq -c -L bench/jq -f bench/jq/five-rules.jq
#
# One line per match: the rule, when, what, who and from where (vigil's rules do more: severities, allow-lists,
# dedup into alerts, enrichment).
include "tampering";
include "root";
include "policy-change";
include "new-user";
include "access-key";

.Records[]
| . as $r
| (if tampering then "cloudtrail-tampering" else empty end),
  (if root_usage then "root-account-usage" else empty end),
  (if policy_change then "iam-policy-change" else empty end),
  (if new_user then "iam-user-created" else empty end),
  (if access_key then "access-key-created" else empty end)
| { rule: ., eventTime: $r.eventTime, eventName: $r.eventName, actor: ($r.userIdentity.arn // $r.userIdentity.type),
    sourceIPAddress: $r.sourceIPAddress, eventID: $r.eventID }
