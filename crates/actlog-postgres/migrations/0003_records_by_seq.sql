-- A partner's records in commit order (its log order): what copying a deployment reads, and
-- what recomputing a partner's proofs will read.
CREATE INDEX records_by_seq ON records (partner, seq);
