"""Discovery: candidate look-alike domains from permutations, Certificate Transparency logs and lists of newly
registered domains, matched against the registry's marks and handed to an operator (docs/discovery.md).

- :mod:`.names`: certificates and log entries to DNS names (RFC 6962 leaves, Static CT API data tiles);
- :mod:`.ct`: the log clients and the monitor that keeps each log's position in the database;
- :mod:`.candidates`: the matcher built from the registry, and candidates stored with their audit trail;
- :mod:`.nrd`: importing a daily list of newly registered domains;
- :mod:`.permutations`: dnstwist's fuzzers and a resolver with a rate and a daily budget;
- :mod:`.decisions`: listing, approving and dismissing candidates (owners see only their brands).
"""
