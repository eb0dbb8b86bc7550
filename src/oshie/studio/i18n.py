"""UI text: Japanese first, English switchable (a cookie per browser; default from studio.yaml)."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("ja", "en")

# key -> (Japanese, English)
TEXT: dict[str, tuple[str, str]] = {
    "app": ("oshie studio", "oshie studio"),
    "login": ("ログイン", "Sign in"),
    "logout": ("ログアウト", "Sign out"),
    "name": ("ユーザー名", "User name"),
    "password": ("パスワード", "Password"),
    "login_failed": ("ユーザー名またはパスワードが違います。", "Wrong user name or password."),
    "throttled": ("ログインの失敗が多すぎます。しばらく待ってから再度お試しください。",
                  "Too many failed sign-ins. Please wait a while and try again."),
    "home": ("ホーム", "Home"),
    "role": ("役割", "Role"),
    "role_writer": ("質問作成者", "question writer"),
    "role_answerer": ("回答作成者", "answer writer"),
    "role_checker": ("チェッカー", "checker"),
    "role_admin": ("管理者", "admin"),
    "write_question": ("質問を書く", "Write a question"),
    "instruction": ("指示（質問）", "Instruction"),
    "input": ("入力（任意）", "Input (optional)"),
    "genre": ("ジャンル", "Genre"),
    "purpose": ("目的", "Purpose"),
    "save": ("保存", "Save"),
    "submit_hint": ("Ctrl+Enter でも保存できます（変換中は無効）。",
                    "Ctrl+Enter saves too (not while composing)."),
    "my_questions": ("自分の質問", "My questions"),
    "answer_queue": ("回答待ちの質問", "Questions to answer"),
    "review_queue": ("チェック待ちの回答", "Answers to review"),
    "answers": ("回答", "Answers"),
    "answer": ("回答", "Answer"),
    "write_answer": ("回答を書く", "Write an answer"),
    "reference_url": ("参照URL（任意）", "Reference URL (optional)"),
    "reference": ("参照URL", "Reference URL"),
    "own_question": ("自分が書いた質問には回答できません。", "You cannot answer a question you wrote."),
    "state": ("状態", "State"),
    "state_answered": ("回答済み", "answered"),
    "state_in_review": ("チェック中", "in review"),
    "state_approved": ("承認済み", "approved"),
    "state_changes_requested": ("修正依頼", "changes requested"),
    "no_answers": ("まだ回答がありません。", "No answers yet."),
    "review": ("チェック", "Review"),
    "approve": ("承認する", "Approve"),
    "request_changes": ("修正を依頼する", "Request changes"),
    "edit_approve": ("修正して承認する", "Edit and approve"),
    "comment": ("コメント", "Comment"),
    "revise": ("回答を修正する", "Revise the answer"),
    "question_writer": ("質問作成", "Question by"),
    "answer_writer": ("回答作成", "Answer by"),
    "checker": ("チェック", "Checked by"),
    "history": ("変更履歴", "History"),
    "findings": ("品質チェックの指摘", "Quality findings"),
    "no_findings": ("指摘はありません。", "No findings."),
    "checking": ("チェック中…", "Checking…"),
    "conflict": ("編集が衝突しました", "Edit conflict"),
    "conflict_text": ("あなたが編集している間に、他の人がこの項目を保存しました。両方の内容を残しています。",
                      "Someone saved this item while you were editing. Both versions are kept."),
    "theirs": ("保存されている内容", "The saved version"),
    "mine": ("あなたの内容（履歴に保存済み）", "Your version (kept in the history)"),
    "export": ("書き出し", "Export"),
    "export_hint": ("承認済みのレコードを書き出します。", "Export the approved records."),
    "format": ("形式", "Format"),
    "file_type": ("ファイル種別", "File type"),
    "dashboard": ("進捗", "Progress"),
    "target": ("目標", "Target"),
    "approved": ("承認済み", "Approved"),
    "people": ("担当者別", "Per person"),
    "questions": ("質問", "Questions"),
    "finding_rate": ("指摘率", "Finding rate"),
    "lengths": ("文字数の分布", "Length distribution"),
    "evaluation": ("人手評価", "Human evaluation"),
    "rate": ("評価する", "Rate"),
    "which_better": ("どちらの回答が良いですか？", "Which answer is better?"),
    "left_better": ("左（A）が良い", "Left (A) is better"),
    "right_better": ("右（B）が良い", "Right (B) is better"),
    "tie": ("同じくらい", "About the same"),
    "reason": ("理由（任意）", "Reason (optional)"),
    "no_more_pairs": ("評価する組はもうありません。ありがとうございました。", "No pairs left to rate. Thank you."),
    "results": ("結果", "Results"),
    "close_round": ("締め切る", "Close the round"),
    "closed": ("締切済み", "closed"),
    "open": ("受付中", "open"),
    "progress": ("進み具合", "Progress"),
    "users": ("ユーザー管理", "Users"),
    "add_user": ("ユーザーを追加", "Add a user"),
    "error": ("エラー", "Error"),
    "forbidden": ("この操作は許可されていません。", "This is not allowed."),
    "not_found": ("見つかりません。", "Not found."),
    "sign_in_needed": ("ログインが必要です。", "Please sign in."),
    "guidelines": ("作成ガイドライン", "Guidelines"),
    "back": ("戻る", "Back"),
    "language": ("English", "日本語"),
}


# names of the audit checks (oshie.data.check codes) shown beside their findings
CHECK_LABELS: dict[str, tuple[str, str]] = {
    "empty_field": ("空の欄", "Empty field"),
    "answer_repeats_instruction": ("質問の繰り返し", "Answer repeats the request"),
    "answer_too_long": ("回答が長すぎる", "Answer too long"),
    "answer_too_short": ("回答が短すぎる", "Answer too short"),
    "junk_answer": ("中身のない回答", "Junk answer"),
    "missing_task": ("依頼文がない", "No request"),
    "foreign_culture": ("海外中心の題材", "Foreign-centric task"),
    "foreign_language_task": ("英語前提の課題", "English-only task"),
    "imperial_units": ("ヤード・ポンド法", "Imperial units"),
    "low_japanese_ratio": ("日本語が少ない", "Little Japanese"),
    "translation_note": ("翻訳メモの残り", "Translator's note"),
    "untranslated_english": ("英語の残り", "Untranslated English"),
    "wiki_debris": ("Wikipediaの残骸", "Wikipedia debris"),
    "broken_markdown": ("Markdownの崩れ", "Broken Markdown"),
    "mixed_speech_style": ("です・ます と だ・である の混在", "Mixed speech style"),
    "repeated_lines": ("同じ行の繰り返し", "Repeated lines"),
    "repeated_ngrams": ("同じ言い回しの繰り返し", "Repeated phrases"),
    "ai_boilerplate": ("AIの定型文", "AI boilerplate"),
    "over_cautious": ("過剰な注意書き", "Over-cautious"),
    "unjustified_refusal": ("不要な拒否", "Unjustified refusal"),
    "ng_word": ("NGワード", "NG word"),
    "pii": ("個人情報", "Personal information"),
    "duplicate": ("既存データとほぼ同じ", "Near-duplicate of an existing record"),
}


def check_label(code: str, lang: str) -> str:
    pair = CHECK_LABELS.get(code)
    return (pair[1] if lang == "en" else pair[0]) if pair else code


def translator(lang: str) -> Callable[[str], str]:
    index = 1 if lang == "en" else 0

    def _(key: str) -> str:
        pair = TEXT.get(key)
        return pair[index] if pair else key

    return _
