-- Whether an execution record's state is one of a comma list of states, e.g. "CLAIMED,SUBMITTING".
-- Included by transitionExec-1.lua and beginSubmit-5.lua (the compare-and-set of the record's state).
local function stateIn(current, expectedStates)
  if not current then
    return false
  end
  for state in string.gmatch(expectedStates, "[^,]+") do
    if state == current then
      return true
    end
  end
  return false
end
