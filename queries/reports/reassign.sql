-- table: reassign
-- title: Who should get the next seat
-- People without a Microsoft 365 Copilot seat who use Copilot Chat, ranked by how much they use it
-- in the 30 days to the report's date: days with use, then prompts, then the latest use (audit log,
-- and the usage report when it is version 2 and holds them; signal says which gave the days), with
-- their rank in their department. The policy's training requirement applies: someone outside the
-- training group is listed as "train first". Beside "Seats to reclaim": a reclaimed seat goes to the
-- top of this list.
--   rank (int): Rank
--   department_rank (int): Rank in department
--   display_name (text, personal): User
--   user_principal_name (text, personal): Sign-in name
--   department (text): Department
--   days_active (int): Days with Copilot Chat use (30 days)
--   prompts (int): Prompts (30 days)
--   last_used (date): Last used
--   signal (text): Signal
--   training (text): Training
--   action (text): Action
SELECT rank() OVER (ORDER BY days_active DESC, prompts DESC, last_used DESC) AS rank,
       rank() OVER (PARTITION BY department ORDER BY days_active DESC, prompts DESC, last_used DESC)
           AS department_rank,
       display_name, user_principal_name, department, days_active, prompts, last_used, signal, training,
       CASE WHEN training = 'not trained' THEN 'train first' ELSE 'reassign a seat' END AS action
FROM report_chat_candidates
ORDER BY rank, department, user_principal_name;
