-- The declared target effort shares (seed category_priorities) must add up to 1 (within rounding): they split
-- all effort between the categories, and investment_vs_priority's misalignment compares shares with them.
select sum(target_effort_share) as total_target_share
from {{ ref('category_priorities') }}
having abs(sum(target_effort_share) - 1) > 0.001
