# CloudTrail tampering (vigil rule cloudtrail-tampering): logging stopped, a trail deleted or updated, or event
# selectors that stop recording management events. One CloudTrail record in, true/false out.
def tampering:
  .eventSource == "cloudtrail.amazonaws.com"
  and (
    (.eventName | IN("StopLogging", "DeleteTrail", "UpdateTrail"))
    or (.eventName == "PutEventSelectors"
        and ((.requestParameters.eventSelectors // [] | any(.includeManagementEvents == false))
             or (.requestParameters.advancedEventSelectors // [] | length > 0)))
  );
