import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Powertools idempotency records in the shared state table (infra/resources/state-table.yml): the table's key is
 * `pk` and its TTL attribute `expiresAt`, so records expire by themselves. Every area that needs "do this at most
 * once" (publish an alert, process an ip-ranges version) uses this one persistence layer, with its own key prefix.
 */
export function stateTablePersistence(tableName: string, client: DynamoDBClient): DynamoDBPersistenceLayer {
  return new DynamoDBPersistenceLayer({
    tableName,
    keyAttr: 'pk',
    expiryAttr: 'expiresAt',
    awsSdkV3Client: client,
  });
}
