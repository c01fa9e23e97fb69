"""GraphQL at ``/graphql`` (strawberry): the same data and permission check as REST."""
