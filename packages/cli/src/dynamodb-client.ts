/** The DynamoDB client the CLI talks to: an endpoint's (DynamoDB Local, dummy credentials), else AWS's. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { dynamoDbClient, withoutCallLogging } from "@ferry/stack";

/** For `endpoint` (e.g. DynamoDB Local), or AWS itself in `region` with the default credential chain when undefined. */
export function dynamoDbClientFor(endpoint: string | undefined, region: string): DynamoDBClient {
  return endpoint
    ? dynamoDbClient(endpoint, region)
    : withoutCallLogging(new DynamoDBClient({ region, maxAttempts: 3 }));
}
