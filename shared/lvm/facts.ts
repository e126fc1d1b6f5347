import { z } from 'zod';
import { Ec2Tag } from './plan';

/**
 * The parts of the EC2 and SSM responses the pre-flight reads, as the Step Functions SDK integrations return them
 * (the APIs' own PascalCase member names). Loose objects: the responses carry much more than we read.
 */

export const Ec2Instance = z.looseObject({
  InstanceId: z.string(),
  State: z.looseObject({ Name: z.string() }),
  Placement: z.looseObject({ AvailabilityZone: z.string() }),
  RootDeviceName: z.string().optional(),
  Platform: z.string().optional(),
  BlockDeviceMappings: z
    .array(
      z.looseObject({
        DeviceName: z.string(),
        Ebs: z.looseObject({ VolumeId: z.string().optional(), Status: z.string().optional() }).optional(),
      }),
    )
    .default([]),
  Tags: z.array(Ec2Tag).default([]),
});
export type Ec2Instance = z.infer<typeof Ec2Instance>;

export const Reservations = z.array(z.looseObject({ Instances: z.array(Ec2Instance).default([]) }));

export const VolumeAttachment = z.looseObject({
  InstanceId: z.string().optional(),
  Device: z.string().optional(),
  State: z.string().optional(),
  DeleteOnTermination: z.boolean().optional(),
});

export const Ec2Volume = z.looseObject({
  VolumeId: z.string(),
  Size: z.number(),
  VolumeType: z.string(),
  State: z.string(),
  AvailabilityZone: z.string().optional(),
  Encrypted: z.boolean().optional(),
  Iops: z.number().optional(),
  Throughput: z.number().optional(),
  MultiAttachEnabled: z.boolean().optional(),
  Attachments: z.array(VolumeAttachment).default([]),
  Tags: z.array(Ec2Tag).default([]),
});
export type Ec2Volume = z.infer<typeof Ec2Volume>;

export const SsmInstanceInformation = z.looseObject({
  InstanceId: z.string(),
  PingStatus: z.string(),
  PlatformType: z.string().optional(),
  AgentVersion: z.string().optional(),
  LastPingDateTime: z.unknown().optional(),
});

export const VolumeModification = z.looseObject({
  VolumeId: z.string(),
  ModificationState: z.string(),
  TargetSize: z.number().optional(),
  TargetVolumeType: z.string().optional(),
  Progress: z.number().optional(),
});

export const tagValue = (tags: readonly Ec2Tag[], key: string): string | undefined =>
  tags.find((t) => t.Key === key)?.Value;
