-- Each advice's action and reason as language-neutral sentences (gateway/advice/phrases):
-- JSON {"key": "advice.<name>", "args": {...}} beside the English text, so pages can show
-- them in the user's language. NULL for advice written before: pages show the English.

ALTER TABLE advice ADD COLUMN action_phrase TEXT;
ALTER TABLE advice ADD COLUMN reason_phrase TEXT;
