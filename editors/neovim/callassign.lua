-- callassign rule files in Neovim (0.11 or later): the `callassign`
-- filetype and the `callassign lsp` language server.
--
-- Copy this file to ~/.config/nvim/plugin/callassign.lua, or source it
-- from init.lua (`dofile('/path/to/callassign.lua')`). `callassign` must be
-- on the PATH; set vim.g.callassign_cmd to use another binary, and
-- vim.g.callassign_context to name a context for user e-mails.

if vim.fn.has('nvim-0.11') == 0 then
  local v = vim.fn.api_info().version
  vim.notify(
    ('callassign: this configuration needs Neovim 0.11 or later (this is %d.%d.%d):'
      .. ' rule files get no language server'):format(v.major, v.minor, v.patch),
    vim.log.levels.WARN
  )
  return
end

local M = {}

--- The first statement of a buffer, as far as detection cares:
--- `'ruleset'` when it is `ruleset NAME`, `'none'` when there is none (a
--- new file, or only comments), `'other'` for anything else. A byte order
--- mark, blank lines and comments before it are skipped.
function M.first_statement(bufnr)
  if not bufnr then
    return 'unknown' -- asked about a file name alone
  end
  for index, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, 200, false)) do
    if index == 1 then
      line = line:gsub('^\239\187\191', '')
    end
    if line:match('^%s*ruleset%s+[%a_]') then
      return 'ruleset'
    end
    if not (line:match('^%s*$') or line:match('^%s*#')) then
      return 'other'
    end
  end
  return 'none'
end

--- Whether a `.rules` file is callassign's: its first statement is
--- `ruleset NAME`; or its folder has a callassign-lsp.json; or it has no
--- statement yet (a new file) and its folder is `rules`, where
--- `callassign init` writes rule files and `callassign check` looks.
function M.is_rule_file(path, bufnr)
  local first = M.first_statement(bufnr)
  local folder = vim.fs.dirname(path)
  return first == 'ruleset'
    or vim.uv.fs_stat(vim.fs.joinpath(folder, 'callassign-lsp.json')) ~= nil
    or (first == 'none' and vim.fs.basename(folder) == 'rules')
end

-- A `.rules` file is callassign's by its content or its place; any other
-- (udev's, polkit's, Snort's) goes on to Neovim's own detection.
vim.filetype.add({
  pattern = {
    ['.*%.rules'] = {
      function(path, bufnr)
        if M.is_rule_file(path, bufnr) then
          return 'callassign'
        end
      end,
      { priority = 10 },
    },
  },
})

--- A buffer with no file has no address Neovim could send: it gets an
--- `untitled:` one, which the server checks on its own. `:w NAME` then
--- saves it as NAME, a file like any other from there on.
local function give_an_address(bufnr)
  local name = ('untitled://callassign/%d'):format(bufnr)
  vim.api.nvim_buf_set_name(bufnr, name)
  vim.bo[bufnr].buftype = 'acwrite'
  local saving
  saving = vim.api.nvim_create_autocmd('BufWriteCmd', {
    buffer = bufnr,
    nested = true,
    callback = function(args)
      if args.file == name then
        error('callassign: this buffer has no file yet: save it with :w NAME.rules', 0)
      end
      vim.api.nvim_del_autocmd(saving)
      vim.bo[bufnr].buftype = ''
      vim.api.nvim_buf_set_name(bufnr, vim.fn.fnamemodify(args.file, ':p'))
      -- As `:w NAME` would: an existing file is overwritten with `:w!` only.
      vim.cmd.write({ bang = vim.v.cmdbang == 1 })
    end,
  })
end

vim.api.nvim_create_autocmd('FileType', {
  pattern = 'callassign',
  group = vim.api.nvim_create_augroup('callassign', { clear = true }),
  callback = function(args)
    local bufnr = args.buf
    vim.bo[bufnr].commentstring = '# %s'
    local file = vim.api.nvim_buf_get_name(bufnr)
    local untitled = vim.startswith(file, 'untitled://callassign/')
    if vim.bo[bufnr].buftype ~= '' and not untitled then
      return -- a plugin's scratch buffer (a preview, a prompt): no document
    end
    if file == '' then
      give_an_address(bufnr)
    end
    local folder = (file == '' or untitled) and vim.fn.getcwd() or vim.fs.dirname(file)
    vim.lsp.start({
      name = 'callassign',
      cmd = { vim.g.callassign_cmd or 'callassign', 'lsp' },
      root_dir = folder,
      init_options = vim.g.callassign_context and { context = vim.g.callassign_context } or nil,
    }, { bufnr = bufnr })
  end,
})

return M
