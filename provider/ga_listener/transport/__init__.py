"""The ground both clients stand on: the error tree, the wire (endpoints, the HTTP session, masking) and
signing. The only place that imports requests."""
