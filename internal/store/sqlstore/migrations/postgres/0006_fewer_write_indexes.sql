-- Indexes that cost more on bulk writes (an HR import of 100,000 people writes every row once)
-- than they save on reads: location and employment type are low-cardinality filters that a
-- scan in id order answers a page of quickly, and active grants per entitlement are found
-- through grants_entitlement_idx, where each entitlement has few grants to check.
DROP INDEX IF EXISTS identities_location_idx;
DROP INDEX IF EXISTS identities_employment_type_idx;
DROP INDEX IF EXISTS grants_active_idx;
