// The callassign extension: starts `callassign lsp` and lets it do the work.
const path = require('path');
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const settings = vscode.workspace.getConfiguration('callassign');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const contextFile = settings.get('context');
  const server = {
    command: settings.get('path') || 'callassign',
    args: ['lsp'],
    // The client adds `--stdio`, which `callassign lsp` accepts.
    transport: TransportKind.stdio,
    options: folder ? { cwd: folder } : {},
  };
  client = new LanguageClient(
    'callassign',
    'callassign',
    server,
    {
      // Unsaved new buffers too: the server checks them on their own.
      documentSelector: [
        { scheme: 'file', language: 'callassign' },
        { scheme: 'untitled', language: 'callassign' },
      ],
      initializationOptions: contextFile
        ? { context: folder ? path.resolve(folder, contextFile) : contextFile }
        : {},
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
