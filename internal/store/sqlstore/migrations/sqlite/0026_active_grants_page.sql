-- Nothing on SQLite: its planner reads a page of active grants through the primary key in id
-- order whatever its statistics, and an index of active grants costs an HR import's writes
-- (migration 0006 dropped one). PostgreSQL's 0026 adds grants.active and an index on it; the
-- numbers of the two engines' migrations stay the same.
SELECT 1;
