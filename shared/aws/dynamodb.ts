import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Created by the composition root (handler or CLI), never by domain code. */
export const createDynamoClient = (region?: string): DynamoDBClient => new DynamoDBClient(region ? { region } : {});

export const documentClient = (client: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
