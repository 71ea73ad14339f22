-- SCIM clients may not take an employee number that differs from another person's only in case
-- (IdentityFilter.EmployeeIDFold). This index answers that check without reading every identity.
-- The expression must stay the one the filter writes: lower(employee_id).
CREATE INDEX identities_employee_id_lower_idx ON identities (lower(employee_id));
