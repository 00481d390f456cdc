"""The DynamoDB adapter: one single table (keys.py has its key schema), one module per
aggregate. store.DynamoStore composes all of them; the *_store.py modules compose only what one
group of use cases needs, so a function imports the table code (and the domain records) of the
aggregates it touches and no other. This package imports nothing itself: importing any of its
modules must not import the rest."""
