-- Copilot Chat is not a licence.
--
-- Microsoft 365 Copilot Chat comes with every Entra ID work account; no service plan
-- grants it. The Bing_Chat_Enterprise plan ("Commercial data protection for Microsoft
-- Copilot", 0d0c0d31-fae7-41f2-b909-eaf4d7f26dba) is listed as "RETIRED - Commercial
-- data protection for Microsoft Copilot" in Microsoft's licensing reference ("Product
-- names and service plan identifiers for licensing", December 2025) for SKUs such as
-- Microsoft 365 E3 (SPE_E3). It is kept as reference data, with a role nothing counts
-- as an entitlement; who may use Copilot Chat is the view copilot_chat_entitlement.
UPDATE reference_service_plans SET role = 'retired_copilot_chat'
WHERE service_plan_id = '0d0c0d31-fae7-41f2-b909-eaf4d7f26dba';
