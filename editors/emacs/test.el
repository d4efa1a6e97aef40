;;; test.el --- callassign-mode.el in a real Emacs, with eglot -*- lexical-binding: t; -*-

;; Tests of callassign-mode.el against the real `callassign' binary (found
;; on the PATH), in Emacs's batch mode: run with `.ci/editors', or by hand:
;;
;;   emacs --batch -L editors/emacs -l editors/emacs/test.el
;;
;; Each check opens files as a user would and reads back what eglot and
;; flymake make of them.  Prints one line a check and `N passed, N failed';
;; exits 1 when a check fails.

;;; Code:

(require 'callassign-mode)
(require 'flymake)

(defvar callassign-test--passed 0)
(defvar callassign-test--failed 0)

(defun callassign-test--check (ok what &optional detail)
  "Count OK as a pass of WHAT, else a failure (with DETAIL)."
  (if ok
      (progn (setq callassign-test--passed (1+ callassign-test--passed))
             (princ (format "ok - %s\n" what)))
    (setq callassign-test--failed (1+ callassign-test--failed))
    (princ (format "not ok - %s%s\n" what (if detail (format ": %S" detail) "")))))

(defun callassign-test--wait-for (predicate)
  "Wait (at most 30 s) for PREDICATE, reading what servers send meanwhile."
  (let ((deadline (+ (float-time) 30)))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (funcall predicate)))

(defvar callassign-test--root (file-name-as-directory (make-temp-file "callassign-emacs" t)))

(defun callassign-test--write (path text)
  "Write TEXT to PATH under the test folder; return the full path."
  (let ((file (expand-file-name path callassign-test--root)))
    (make-directory (file-name-directory file) t)
    (with-temp-file file (insert text))
    file))

(defun callassign-test--open (path)
  "Visit PATH under the test folder as a user would; return its buffer.
eglot connects from `post-command-hook', which a batch Emacs never runs
by itself: it is run here as after a command."
  (let ((buffer (find-file-noselect (expand-file-name path callassign-test--root))))
    (set-buffer buffer)
    (run-hooks 'post-command-hook)
    buffer))

(defun callassign-test--command (command)
  "Run COMMAND as the command loop would: the hooks around it too.
A batch Emacs has no command loop, and eglot and completion rely on
`post-command-hook' (to connect, to leave a completion)."
  (run-hooks 'pre-command-hook)
  (call-interactively command)
  (run-hooks 'post-command-hook))

(defun callassign-test--served-p ()
  "Whether eglot serves the current buffer, past the handshake."
  (callassign-test--wait-for
   (lambda ()
     (let ((server (eglot-current-server)))
       (and server (eglot--server-info server))))))

(callassign-test--write "rules/base.rules"
                        "ruleset base\nstep call_agent\nstep contact_owner\nfallback integration\n")
(callassign-test--write "rules/callassign-lsp.json" "{\"context\": \"team.context.yaml\"}")
(callassign-test--write "rules/team.context.yaml"
                        (concat "integration: hubspot\nfallback: unassigned\nusers:\n"
                                "  - {id: u1, email: bob@acme.com}\n  - {id: u2, email: ann@acme.com}\n"))
(defconst callassign-test--team
  "# The team's rules.\nruleset team extends base\nstep favorite_agent when status == mised\n")
(callassign-test--write "rules/team.rules" callassign-test--team)
(callassign-test--write "rules/typing.rules" "ruleset typing extends base\n")
(callassign-test--write "rules/messy.rules"
                        "ruleset   messy extends base\nstep    favorite_agent   when status==missed\n")
(callassign-test--write "etc/udev/rules.d/99-usb.rules"
                        "# USB sticks\nACTION==\"add\", SUBSYSTEM==\"usb\", MODE=\"0660\"\n")
(callassign-test--write "usr/share/polkit-1/rules.d/50-admin.rules"
                        "polkit.addAdminRule(function(action, subject) {\n  return [\"unix-group:wheel\"];\n});\n")
(callassign-test--write "snort/rules/local.rules"
                        "alert tcp any any -> any 80 (msg:\"web\"; sid:1000001;)\n")
(callassign-test--write "elsewhere/zendesk.rules" "\n# Zendesk\nruleset zendesk extends default\n")
(callassign-test--write "settings-only/callassign-lsp.json"
                        "{\"context\": \"../rules/team.context.yaml\"}")

;; Detection: by content or place, and everything else left alone.
(dolist (case '(("rules/team.rules" t "a rule file (comment before the header)")
                ("elsewhere/zendesk.rules" t "a `ruleset' file outside a rules folder")
                ("rules/new.rules" t "a new, empty file in a rules folder")
                ("settings-only/new.rules" t "a new file beside a callassign-lsp.json")
                ("etc/udev/rules.d/99-usb.rules" nil "a udev rules file")
                ("usr/share/polkit-1/rules.d/50-admin.rules" nil "a polkit rules file")
                ("snort/rules/local.rules" nil "a Snort rules file in a rules folder")))
  (pcase-let ((`(,path ,ours ,what) case))
    (with-current-buffer (callassign-test--open path)
      (callassign-test--check (eq (eq major-mode 'callassign-mode) ours)
                              (format "%s is %s" what (if ours "callassign-mode" "left alone"))
                              major-mode)
      (unless ours
        (callassign-test--check (null (eglot-current-server))
                                (format "%s gets no language server" what))))))

;; Diagnostics on the right range.
(with-current-buffer (callassign-test--open "rules/team.rules")
  (callassign-test--check (callassign-test--served-p) "the language server starts for a rule file")
  (flymake-start)
  (callassign-test--wait-for (lambda () (flymake-diagnostics)))
  (let* ((found (flymake-diagnostics))
         (first (car found))
         (start (1+ (string-search "mised" callassign-test--team))))
    (callassign-test--check
     (and (= (length found) 1)
          (= (flymake-diagnostic-beg first) start)
          (= (flymake-diagnostic-end first) (+ start 5))
          (eq (flymake-diagnostic-type first) 'eglot-error)
          (string-search "did you mean `missed`" (flymake-diagnostic-text first)))
     "the unknown value is underlined where it is"
     (mapcar (lambda (d) (list (flymake-diagnostic-beg d) (flymake-diagnostic-end d)
                               (flymake-diagnostic-text d)))
             found))))

;; Completion as `completion-at-point' (M-TAB) does it: eglot applies the
;; chosen item's textEdit.
(with-current-buffer (callassign-test--open "rules/typing.rules")
  (callassign-test--served-p)
  (dolist (case '(("step user \"bob@ac|\"" "step user \"bob@acme.com\""
                   "an address completes inside its quotes")
                  ("step user \"an|" "step user \"ann@acme.com"
                   "an address completes before the closing quote is typed")
                  ("step contact_owner when contact.ow|" "step contact_owner when contact.owner"
                   "a dotted field completes as one word")
                  ("step favorite_agent when status == mis|" "step favorite_agent when status == missed"
                   "a value completes after its operator")))
    (pcase-let ((`(,line ,expected ,what) case))
      (goto-char (point-min))
      (forward-line 1)
      (delete-region (point) (point-max))
      (insert (replace-regexp-in-string "|" "" line))
      (goto-char (+ (line-beginning-position) (string-search "|" line)))
      (callassign-test--command #'completion-at-point)
      (let ((got (buffer-substring-no-properties (line-beginning-position) (line-end-position))))
        (callassign-test--check (equal got expected) what got))))
  ;; Nothing offered inside comments.
  (dolist (line '("# step " "step call_agent # note: "))
    (goto-char (point-min))
    (forward-line 1)
    (delete-region (point) (point-max))
    (insert line)
    (let* ((capf (eglot-completion-at-point))
           (offered (all-completions "" (nth 2 capf))))
      (callassign-test--check (null offered) (format "nothing is offered in `%s'" line) offered)))
  (set-buffer-modified-p nil))

;; Formatting equal to `callassign fmt --stdout'.
(let* ((messy (expand-file-name "rules/messy.rules" callassign-test--root))
       (expected (with-temp-buffer
                   (list (call-process callassign-program nil t nil "fmt" "--stdout" messy)
                         (buffer-string)))))
  (callassign-test--check (equal (car expected) 0) "callassign fmt --stdout runs" expected)
  (with-current-buffer (callassign-test--open "rules/messy.rules")
    (callassign-test--served-p)
    (callassign-test--command #'eglot-format-buffer)
    (callassign-test--check (equal (buffer-string) (cadr expected))
                            "formatting gives the fmt layout" (buffer-string))
    (set-buffer-modified-p nil)))

(delete-directory callassign-test--root t)
(princ (format "%d passed, %d failed\n" callassign-test--passed callassign-test--failed))
(kill-emacs (if (zerop callassign-test--failed) 0 1))

;;; test.el ends here
