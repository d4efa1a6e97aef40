-- Tests of callassign.lua in a real Neovim against the real `callassign`
-- binary (found on the PATH). Run with `.ci/editors`, or by hand:
--
--   nvim --clean --headless -l editors/neovim/test.lua
--
-- This script drives a second Neovim, started with nothing but the
-- shipped configuration, over its RPC channel: it opens files, types keys
-- and reads back what the editor itself shows and does. Prints one line a
-- check and `N passed, N failed`; exits 1 when a check fails.

local here = vim.fs.dirname(vim.fs.normalize(vim.fn.fnamemodify(arg[0], ':p')))
local snippet = vim.fs.joinpath(here, 'callassign.lua')
local deadline_ms = 30000

local passed, failed = 0, 0
-- Lines of their own on stdout (`print` in a headless Neovim puts the
-- line break before a message, not after it).
local function say(line)
  io.stdout:write(line, '\n')
end
local function check(ok, what, detail)
  if ok then
    passed = passed + 1
    say('ok - ' .. what)
  else
    failed = failed + 1
    say('not ok - ' .. what .. (detail and (': ' .. detail) or ''))
  end
end

-- A project: a rules folder with a settings file and a context, a udev
-- and a polkit rules file, a ruleset outside any rules folder.
local root = vim.fn.tempname()
local function write(path, text)
  local full = vim.fs.joinpath(root, path)
  vim.fn.mkdir(vim.fs.dirname(full), 'p')
  local file = assert(io.open(full, 'w'))
  file:write(text)
  file:close()
  return full
end
write('rules/base.rules', 'ruleset base\nstep call_agent\nstep contact_owner\nfallback integration\n')
write('rules/callassign-lsp.json', '{"context": "team.context.yaml"}')
write(
  'rules/team.context.yaml',
  'integration: hubspot\nfallback: unassigned\nusers:\n'
    .. '  - {id: u1, email: bob@acme.com}\n  - {id: u2, email: ann@acme.com}\n'
)
local team = '# The team\'s rules.\nruleset team extends base\nstep favorite_agent when status == mised\n'
write('rules/team.rules', team)
write('rules/typing.rules', 'ruleset typing extends base\n')
write('rules/messy.rules', 'ruleset   messy extends base\nstep    favorite_agent   when status==missed\n')
write('etc/udev/rules.d/99-usb.rules', '# USB sticks\nACTION=="add", SUBSYSTEM=="usb", MODE="0660"\n')
write('usr/share/polkit-1/rules.d/50-admin.rules', 'polkit.addAdminRule(function(action, subject) {\n  return ["unix-group:wheel"];\n});\n')
write('snort/rules/local.rules', 'alert tcp any any -> any 80 (msg:"web"; sid:1000001;)\n')
write('elsewhere/zendesk.rules', '\n# Zendesk\nruleset zendesk extends default\n')
write('settings-only/callassign-lsp.json', '{}')

local env = {}
for _, name in ipairs({ 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME' }) do
  env[name] = vim.fs.joinpath(root, '.home', name:lower())
end
local editor = vim.fn.jobstart(
  { vim.v.progpath, '--embed', '--headless', '--clean', '-n', '-u', snippet },
  { rpc = true, cwd = root, env = env }
)
assert(editor > 0, 'cannot start ' .. vim.v.progpath)

--- Runs Lua in the editor under test.
local function lua(code, ...)
  return vim.rpcrequest(editor, 'nvim_exec_lua', code, { ... })
end
local function wait_for(condition)
  return vim.wait(deadline_ms, condition, 20)
end
local function open(path)
  lua('vim.cmd.edit(vim.fn.fnameescape(...))', path)
  return lua('return vim.api.nvim_get_current_buf()')
end
local function clients(bufnr)
  return lua('return #vim.lsp.get_clients({ bufnr = ... })', bufnr)
end
local function attached(bufnr)
  return wait_for(function()
    return lua(
      'local c = vim.lsp.get_clients({ bufnr = ... })[1]; return c ~= nil and c.initialized == true',
      bufnr
    )
  end)
end
local function diagnostics(bufnr)
  return lua(
    [[return vim.tbl_map(function(d)
        return { code = d.code, lnum = d.lnum, col = d.col, end_lnum = d.end_lnum,
                 end_col = d.end_col, severity = d.severity, message = d.message }
      end, vim.diagnostic.get(...))]],
    bufnr
  )
end
--- The 0-based line and byte columns of `needle` in `text`.
local function span_of(text, needle)
  local start = assert(text:find(needle, 1, true))
  local before = text:sub(1, start - 1)
  local lnum = select(2, before:gsub('\n', ''))
  local col = #before - (before:match('.*\n()') or 1) + 1
  return lnum, col, col + #needle
end

-- Detection: by content or place, and everything else left alone.
local cases = {
  { 'rules/team.rules', 'callassign', 'a rule file (comment before the header)' },
  { 'elsewhere/zendesk.rules', 'callassign', 'a `ruleset` file outside a rules folder' },
  { 'rules/new.rules', 'callassign', 'a new, empty file in a rules folder' },
  { 'settings-only/new.rules', 'callassign', 'a new file beside a callassign-lsp.json' },
  { 'etc/udev/rules.d/99-usb.rules', 'udevrules', 'a udev rules file' },
  { 'usr/share/polkit-1/rules.d/50-admin.rules', 'javascript', 'a polkit rules file' },
  { 'snort/rules/local.rules', 'hog', 'a Snort rules file in a rules folder' },
}
for _, case in ipairs(cases) do
  local path, filetype, what = case[1], case[2], case[3]
  local bufnr = open(vim.fs.joinpath(root, path))
  local got = lua('return vim.bo.filetype')
  check(got == filetype, ('%s is `%s`'):format(what, filetype), 'filetype ' .. got)
  if filetype ~= 'callassign' then
    check(clients(bufnr) == 0, what .. ' gets no language server')
  end
end

-- Diagnostics on the right range, once the server has checked the file.
local bufnr = open(vim.fs.joinpath(root, 'rules/team.rules'))
check(attached(bufnr), 'the language server starts for a rule file')
wait_for(function()
  return #diagnostics(bufnr) > 0
end)
local found = diagnostics(bufnr)
local lnum, col, end_col = span_of(team, 'mised')
local first = found[1] or {}
check(
  #found == 1
    and first.code == 'callassign::unknown_value'
    and first.lnum == lnum
    and first.col == col
    and first.end_lnum == lnum
    and first.end_col == end_col
    and first.severity == vim.diagnostic.severity.ERROR
    and first.message:find('did you mean `missed`', 1, true) ~= nil,
  'the unknown value is underlined where it is',
  vim.inspect(found)
)

-- Completion through the editor's own omni-completion (CTRL-X CTRL-O),
-- with Neovim's default 'completeopt': the chosen item is inserted by
-- Neovim from the item's textEdit.
bufnr = open(vim.fs.joinpath(root, 'rules/typing.rules'))
attached(bufnr)
--- Types CTRL-X CTRL-O at the `|` of `line` and leaves insert mode.
local function complete(line, expected, what)
  local col = line:find('|', 1, true) - 1
  line = line:gsub('|', '', 1)
  lua('vim.api.nvim_buf_set_lines(0, 1, -1, false, { ... })', line)
  if col == #line then
    vim.rpcrequest(editor, 'nvim_input', 'G$a<C-x><C-o>')
  else
    lua('vim.api.nvim_win_set_cursor(0, { 2, ... })', col)
    vim.rpcrequest(editor, 'nvim_input', 'i<C-x><C-o>')
  end
  local offered = wait_for(function()
    return #vim.rpcrequest(editor, 'nvim_call_function', 'complete_info', { { 'items' } }).items > 0
  end)
  vim.rpcrequest(editor, 'nvim_input', '<Esc>')
  wait_for(function()
    return vim.rpcrequest(editor, 'nvim_get_mode').mode == 'n'
  end)
  local got = lua('return vim.api.nvim_get_current_line()')
  check(offered and got == expected, what, ('%q became %q'):format(line, got))
end
complete('step user "bob@ac|"', 'step user "bob@acme.com"', 'an address completes inside its quotes')
complete('step user "an|', 'step user "ann@acme.com', 'an address completes before the closing quote is typed')
complete(
  'step contact_owner when contact.ow|',
  'step contact_owner when contact.owner',
  'a dotted field completes as one word'
)
complete(
  'step favorite_agent when status == mis|',
  'step favorite_agent when status == missed',
  'a value completes after its operator'
)

-- Nothing offered inside comments: the server's answer to the editor.
for _, line in ipairs({ '# step ', 'step call_agent # note: ' }) do
  lua('vim.api.nvim_buf_set_lines(0, 1, -1, false, { ... }); vim.api.nvim_win_set_cursor(0, { 2, #(...) })', line)
  local items = lua([[
    local params = vim.lsp.util.make_position_params(0, 'utf-16')
    local answers = vim.lsp.buf_request_sync(0, 'textDocument/completion', params, 10000) or {}
    local items = {}
    for _, answer in pairs(answers) do
      for _, item in ipairs((answer.result or {}).items or answer.result or {}) do
        table.insert(items, item.label)
      end
    end
    return items
  ]])
  check(#items == 0, ('nothing is offered in `%s`'):format(line), vim.inspect(items))
end

-- Formatting equal to `callassign fmt --stdout`.
local messy = vim.fs.joinpath(root, 'rules/messy.rules')
local expected = vim.fn.system({ 'callassign', 'fmt', '--stdout', messy })
check(vim.v.shell_error == 0, 'callassign fmt --stdout runs', expected)
bufnr = open(messy)
attached(bufnr)
lua('vim.lsp.buf.format({ async = false, timeout_ms = 10000 })')
local formatted = table.concat(lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)'), '\n') .. '\n'
check(formatted == expected, 'formatting gives the fmt layout', formatted)

-- A buffer with no file, set to the callassign filetype, is checked; saved
-- with a name it becomes that file.
lua([[
  vim.cmd.enew()
  vim.api.nvim_buf_set_lines(0, 0, -1, false,
    { 'ruleset scratch', 'step call_agent when status == mised', 'fallback integration' })
  vim.cmd.setfiletype('callassign')
]])
bufnr = lua('return vim.api.nvim_get_current_buf()')
check(attached(bufnr), 'the language server starts for a buffer with no file')
wait_for(function()
  return #diagnostics(bufnr) > 0
end)
found = diagnostics(bufnr)
check(
  #found == 1 and found[1].code == 'callassign::unknown_value' and found[1].lnum == 1 and found[1].col == 31,
  'a buffer with no file gets diagnostics',
  vim.inspect(found)
)
-- A plugin's scratch buffer (a preview) with the filetype is left alone.
lua([[
  local scratch = vim.api.nvim_create_buf(false, true)
  vim.bo[scratch].filetype = 'callassign'
  vim.g.scratch = scratch
]])
local preview = lua('return vim.g.scratch')
check(
  lua('return vim.api.nvim_buf_get_name(...)', preview) == '' and clients(preview) == 0,
  'a scratch buffer keeps no name and gets no language server'
)
local refused = pcall(lua, 'vim.cmd.write()')
check(not refused, '`:w` without a name is refused')
local base = vim.fs.joinpath(root, 'rules/base.rules')
local kept = not pcall(lua, 'vim.cmd.write(vim.fn.fnameescape(...))', base)
  and vim.fn.readfile(base)[1] == 'ruleset base'
check(kept, '`:w NAME` of an existing file is refused without `!`')
local scratch = vim.fs.joinpath(root, 'rules/scratch.rules')
local saved, why = pcall(lua, 'vim.cmd.write(vim.fn.fnameescape(...))', scratch)
check(saved, '`:w NAME` saves it', why)
check(
  vim.fn.filereadable(scratch) == 1 and vim.fn.readfile(scratch)[2] == 'step call_agent when status == mised',
  'the file holds the buffer'
)
check(
  lua('return vim.api.nvim_buf_get_name(0)') == scratch and not lua('return vim.bo.modified'),
  'the buffer is that file now',
  lua('return vim.api.nvim_buf_get_name(0)')
)

vim.rpcnotify(editor, 'nvim_command', 'qall!')
vim.fn.jobwait({ editor }, 5000)
vim.fn.delete(root, 'rf')
say(('%d passed, %d failed'):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
