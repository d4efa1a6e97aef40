;;; callassign-mode.el --- callassign rule files, served by `callassign lsp' -*- lexical-binding: t; -*-

;; Needs Emacs 28.1 or later and eglot 1.9 or later (eglot is built into
;; Emacs 29; on Emacs 28 install it from GNU ELPA, or Debian's elpa-eglot).

;;; Commentary:

;; A major mode for callassign rule files, and the eglot set-up that
;; starts `callassign lsp' for them: diagnostics (flymake), quick fixes
;; (`eglot-code-actions'), completion (`completion-at-point'), hover
;; (eldoc), go to definition (`xref-find-definitions'), formatting
;; (`eglot-format-buffer') and the outline (imenu).
;;
;; A `.rules' file is a rule file when its first statement is
;; `ruleset NAME', when its folder has a callassign-lsp.json, or when it
;; is a new file in a `rules' folder; other `.rules' files (udev's,
;; polkit's, Snort's) are left to the modes Emacs would give them.
;;
;; Put this file on the `load-path', then in your init file:
;;
;;   (require 'callassign-mode)
;;
;; `callassign' must be on the PATH (or set `callassign-program').

;;; Code:

(when (< emacs-major-version 28)
  (error "callassign-mode needs Emacs 28.1 or later (this is %s)" emacs-version))
(unless (require 'eglot nil t)
  (error "callassign-mode needs eglot: M-x package-install RET eglot RET (or Debian's elpa-eglot)"))
(defvar eglot-server-programs)
(declare-function eglot-ensure "eglot")

(defgroup callassign nil
  "callassign rule files."
  :group 'languages)

(defcustom callassign-program "callassign"
  "The callassign binary that serves `callassign lsp'."
  :type 'string)

(defconst callassign--keywords
  '("ruleset" "extends" "step" "disable" "move" "fallback" "when" "unless"
    "and" "or" "not" "in" "null" "user" "before" "after" "first" "last"
    "starts_with"))

(defvar callassign-mode-syntax-table
  (let ((table (make-syntax-table)))
    (modify-syntax-entry ?# "<" table)
    (modify-syntax-entry ?\n ">" table)
    (modify-syntax-entry ?\" "\"" table)
    (modify-syntax-entry ?\\ "\\" table)
    ;; A dotted field (`contact.owner') and an address (`bob@acme.com')
    ;; are one symbol, as the server completes them.
    (dolist (char '(?_ ?- ?. ?@))
      (modify-syntax-entry char "_" table))
    table)
  "Syntax table of `callassign-mode'.")

(defconst callassign-font-lock-keywords
  `((,(regexp-opt callassign--keywords 'symbols) . font-lock-keyword-face)
    ("\\_<-?[0-9]+\\_>" . font-lock-constant-face)))

;;;###autoload
(define-derived-mode callassign-mode prog-mode "callassign"
  "Major mode for callassign rule files, served by `callassign lsp'."
  (setq-local comment-start "# ")
  (setq-local comment-start-skip "#+\\s-*")
  (setq-local indent-tabs-mode nil)
  (setq-local font-lock-defaults '(callassign-font-lock-keywords)))

(defun callassign--first-statement ()
  "The buffer's first statement, as far as detection cares.
`ruleset' when it is `ruleset NAME', `none' when there is none (a new
file, or only comments), `other' for anything else.  A byte order mark,
blank lines and comments before it are skipped."
  (save-excursion
    (save-restriction
      (widen)
      (goto-char (point-min))
      (when (eq (char-after) #xFEFF)
        (forward-char))
      (with-syntax-table callassign-mode-syntax-table
        (forward-comment (buffer-size)))
      (cond ((looking-at "ruleset[ \t]+[[:alpha:]_]") 'ruleset)
            ((eobp) 'none)
            (t 'other)))))

(defun callassign-rule-file-p ()
  "Whether the current buffer visits a callassign rule file.
That is a `.rules' file whose first statement is `ruleset NAME'; or one
whose folder has a callassign-lsp.json; or one with no statement yet (a
new file) in a `rules' folder, where `callassign init' writes rule files
and `callassign check' looks."
  (when (and buffer-file-name (string-suffix-p ".rules" buffer-file-name))
    (let ((first (callassign--first-statement))
          (folder (file-name-directory buffer-file-name)))
      (or (eq first 'ruleset)
          (file-exists-p (expand-file-name "callassign-lsp.json" folder))
          (and (eq first 'none)
               (equal (file-name-nondirectory (directory-file-name folder)) "rules"))))))

;; By content and place, before the file name is looked at: a `.rules'
;; file that is not callassign's goes on to `auto-mode-alist'.
(add-to-list 'magic-mode-alist '(callassign-rule-file-p . callassign-mode))

(add-to-list 'eglot-server-programs
             (cons 'callassign-mode
                   (lambda (&optional _interactive) (list callassign-program "lsp"))))

(add-hook 'callassign-mode-hook #'eglot-ensure)

(provide 'callassign-mode)

;;; callassign-mode.el ends here
