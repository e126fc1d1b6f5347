import type { CloudTrailRecord } from '../../cloudtrail/record';
import { exampleRecord } from '../engine/example-record';

/** An EC2 API call as CloudTrail records it (for inline examples): request, response with a requestId. */
export function ec2Call(
  eventName: string,
  requestParameters: Record<string, unknown> | null,
  responseElements: Record<string, unknown> | null = { _return: true },
  extra: Partial<CloudTrailRecord> = {},
): CloudTrailRecord {
  return exampleRecord({
    eventSource: 'ec2.amazonaws.com',
    eventName,
    userAgent: 'aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 command/ec2.' + eventName,
    requestParameters,
    responseElements: responseElements ? { requestId: 'c7e5a2f0-3d5b-4c1e-9a0b-5f2d7e8c1a11', ...responseElements } : null,
    ...extra,
  });
}

export const deniedEc2 = (eventName: string): Partial<CloudTrailRecord> => ({
  errorCode: 'Client.UnauthorizedOperation',
  errorMessage: `You are not authorized to perform this operation. User: arn:aws:iam::111122223333:user/alice is not authorized to perform: ec2:${eventName}`,
  responseElements: null,
});
