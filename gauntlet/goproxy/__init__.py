"""The Go module proxy protocol: paths and versions, zips and hashes, a client."""
