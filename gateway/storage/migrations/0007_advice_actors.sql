-- Who acknowledged and who dismissed an advice (the signed-in user's name; NULL when
-- the advice engine or a tool acted, or before this migration).

ALTER TABLE advice ADD COLUMN acknowledged_by TEXT;
ALTER TABLE advice ADD COLUMN dismissed_by TEXT;
