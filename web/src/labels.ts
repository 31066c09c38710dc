// Labels for codes the server sends bare: upload rejection reasons, finding states and events,
// message types. Unknown codes are shown as they are.
import type { Bilingual, Lang } from './i18n';

// What an upload's rejection code means, in words; the server's message (English, naming the
// record) is shown beside it.
export const uploadErrors: Record<string, Bilingual> = {
  fastq_empty: { ja: 'FASTQ にレコードがありません', en: 'The FASTQ holds no records' },
  fastq_truncated: { ja: 'FASTQ が途中で切れています（最後のレコードが不完全）', en: 'The FASTQ is truncated (the last record is incomplete)' },
  fastq_bad_header: { ja: 'ヘッダー行が不正です（「@」で始まる行が必要）', en: "Bad header line (a line starting with '@' is expected)" },
  fastq_header_too_long: { ja: 'ヘッダー行が長すぎます', en: 'The header line is too long' },
  fastq_missing_plus: { ja: '「+」行がありません', en: "The '+' line is missing" },
  fastq_bad_sequence: { ja: '塩基配列に使えない文字があります', en: 'The sequence holds a character that is not a base' },
  fastq_plus_mismatch: { ja: '「+」行がヘッダーと一致しません', en: "The '+' line does not repeat the header" },
  fastq_bad_quality: { ja: '品質値が範囲外です', en: 'A quality value is out of range' },
  fastq_length_mismatch: { ja: '品質値の長さが塩基配列の長さと違います', en: 'The quality length differs from the sequence length' },
  fastq_crlf: { ja: '改行が CRLF です（LF のみ使えます）', en: 'Lines end in CRLF (LF only)' },
  gzip_truncated: { ja: 'gzip が途中で切れています', en: 'The gzip stream is truncated' },
  gzip_corrupt: { ja: 'gzip が壊れています', en: 'The gzip stream is corrupt' },
  checksum_mismatch: { ja: 'SHA-256 が一致しません（転送中に変化しました）', en: 'The SHA-256 does not match (the bytes changed in transit)' },
  size_mismatch: { ja: 'ファイルサイズが申告と違います', en: 'The size differs from the one declared' },
  pair_name_mismatch: { ja: 'ペアのリード名が一致しません', en: 'The read names of the pair do not agree' },
  pair_read_count_mismatch: { ja: 'ペアのリード数が一致しません', en: 'The read counts of the pair differ' },
  malformed_record: { ja: 'レコードが不正です（htslib）', en: 'Malformed record (htslib)' },
  kind_mismatch: { ja: 'ファイル形式が申告と違います', en: 'The file format differs from the one declared' },
  read_taken: { ja: 'このリードにはすでにファイルがあります', en: 'This read already has a file' },
  run_not_open: { ja: 'この解読ランは終了しています', en: 'This run is no longer open' },
  chunks_missing: { ja: '未送信の分割があります（再開できます）', en: 'Some chunks are missing (the upload can be resumed)' },
  invalid_specimen_state: { ja: '検体の状態がランに合いません', en: 'The specimen is not in a state for a run' },
  not_specimen_holder: { ja: 'この検体を保管していません', en: 'You do not hold this specimen' },
  network_error: { ja: '通信が途切れました（再開できます）', en: 'The connection failed (the upload can be resumed)' },
  fastq_header_not_utf8: { ja: 'ヘッダー行が UTF-8 ではありません（リード名に不正なバイト）', en: 'The header line is not UTF-8 (an invalid byte in the read name)' },
  staging_damaged: { ja: '一時保存された分割が壊れています（アップロードをやり直してください）', en: 'A staged chunk is damaged (start the upload again)' },
  server_busy: { ja: 'サーバーが混み合っています（しばらくして再開できます）', en: 'The server is busy (the upload can be resumed shortly)' },
  rate_limited: { ja: 'この接続元からの要求が多すぎます（しばらく待ってください）', en: 'Too many requests from this address (wait a moment)' },
  body_too_large: { ja: '送信データが上限を超えています', en: 'The request body exceeds the limit' },
  json_too_deep: { ja: 'JSON の入れ子が深すぎます（64 段まで）', en: 'The JSON is nested too deeply (64 levels at most)' },
  number_out_of_range: { ja: '数値が扱える範囲を超えています', en: 'A number is out of range' },
  upload_expired: { ja: 'アップロードの有効期限が切れました（新しくアップロードしてください）', en: 'The upload expired (start a new upload)' },
  body_spool_unavailable: { ja: 'サーバーが送信データを一時保存できません（しばらくして再開できます）', en: 'The server cannot keep the request body for now (the upload can be resumed shortly)' },
  body_spool_failed: { ja: 'サーバーが送信データを一時保存できませんでした（しばらくして再開できます）', en: 'The server could not keep the request body (the upload can be resumed shortly)' },
  body_unreadable: { ja: 'サーバーが一時保存した送信データを読み戻せませんでした（もう一度送ってください）', en: 'The server could not read the kept request body back (send it again)' },
};

export function uploadErrorLabel(lang: Lang, code: string): string {
  if (uploadErrors[code]) return uploadErrors[code][lang];
  if (code.startsWith('gzip_')) return lang === 'ja' ? 'gzip の形式が不正です' : 'The gzip stream is not valid';
  if (code.startsWith('fastq_')) return lang === 'ja' ? 'FASTQ の形式が不正です' : 'The FASTQ is not valid';
  return code;
}

export const findingStates: Record<string, Bilingual> = {
  detected: { ja: '検出', en: 'Detected' },
  triaged: { ja: '一次判定済み', en: 'Triaged' },
  expert_review: { ja: '専門家レビュー中', en: 'Expert review' },
  consent_check: { ja: '同意確認中', en: 'Consent check' },
  ask_preference_via_sh: { ja: '医療機関経由で意向確認中', en: 'Asking preference via hospital' },
  sent_to_sh: { ja: '医療機関へ送付済み', en: 'Sent to hospital' },
  escalated: { ja: '督促（期限超過）', en: 'Escalated' },
  sh_review: { ja: '医療機関で確認中', en: 'Hospital review' },
  contacting: { ja: '連絡中', en: 'Contacting' },
  unreachable: { ja: '連絡がつかない', en: 'Unreachable' },
  pre_disclosure_counselling: { ja: '開示前カウンセリング', en: 'Pre-disclosure counselling' },
  confirmatory_test: { ja: '確認検査中', en: 'Confirmatory test' },
  disclosed: { ja: '開示済み', en: 'Disclosed' },
  follow_up: { ja: 'フォローアップ中', en: 'Follow-up' },
  closed_not_reportable: { ja: '終了（返却対象外）', en: 'Closed: not reportable' },
  closed_by_preference: { ja: '終了（本人の意向）', en: 'Closed: participant preference' },
  closed_site_decision: { ja: '終了（医療機関の判断）', en: 'Closed: site decision' },
  disclosed_not_confirmed: { ja: '開示（確認検査で陰性）', en: 'Disclosed: not confirmed' },
  closed_returned: { ja: '終了（返却完了）', en: 'Closed: returned' },
  closed_withdrawn: { ja: '終了（同意撤回）', en: 'Closed: withdrawn' },
  reclassified: { ja: '再分類済み', en: 'Reclassified' },
};

export const findingEvents: Record<string, Bilingual> = {
  filed: { ja: '登録', en: 'Filed' },
  file: { ja: '登録', en: 'Filed' },
  classify: { ja: '一次判定を記録', en: 'Record triage' },
  not_reportable: { ja: '返却対象外として終了', en: 'Close as not reportable' },
  submit_review: { ja: '専門家レビューへ提出', en: 'Submit to expert review' },
  approve: { ja: '承認（ダブルチェック）', en: 'Approve (second reviewer)' },
  reject: { ja: '却下（ダブルチェック）', en: 'Reject (second reviewer)' },
  consent_permits: { ja: '同意あり：医療機関へ送付', en: 'Consent permits: sent to hospital' },
  consent_denies: { ja: '同意なし：終了', en: 'Consent denies: closed' },
  consent_undecided: { ja: '未定：医療機関に意向確認を依頼', en: 'Undecided: hospital asks' },
  record_preference: { ja: '本人の意向を記録', en: "Record the participant's answer" },
  preference_known: { ja: '意向が判明：再確認', en: 'Preference known: check again' },
  acknowledge: { ja: '受領を確認', en: 'Acknowledge receipt' },
  escalate: { ja: '期限超過で督促', en: 'Escalate (SLA overdue)' },
  resend: { ja: '再送付', en: 'Send again' },
  site_decline: { ja: '連絡しないと判断（理由コード）', en: 'Decline at site (reason code)' },
  start_contact: { ja: '本人への連絡を開始', en: 'Start contacting' },
  contact_attempt: { ja: '連絡を試みたがつながらず', en: 'Record a failed contact attempt' },
  reached: { ja: '連絡がついた', en: 'Reached' },
  unreachable: { ja: '連絡不能として記録', en: 'Record as unreachable' },
  contact_window_expired: { ja: '連絡期限切れ', en: 'Contact window expired' },
  contact_updated: { ja: '連絡先更新：再連絡', en: 'Contact details updated' },
  patient_declines: { ja: '本人が開示を辞退', en: 'Participant declines' },
  order_confirmatory_test: { ja: '確認検査を依頼', en: 'Order confirmatory test' },
  disclose: { ja: '開示を記録', en: 'Record disclosure' },
  test_positive: { ja: '確認検査陽性：開示', en: 'Confirmed: disclose' },
  test_negative: { ja: '確認検査陰性：開示', en: 'Not confirmed: disclose' },
  start_follow_up: { ja: 'フォローアップ開始', en: 'Start follow-up' },
  close_returned: { ja: '返却完了として終了', en: 'Close as returned' },
  consent_revoked: { ja: '同意の変更により終了', en: 'Consent revoked: closed' },
  consent_reopened: { ja: '同意が未定に戻った', en: 'Consent undecided again' },
  withdraw: { ja: '同意撤回により終了', en: 'Withdrawn' },
  reclassify: { ja: '再分類', en: 'Reclassify' },
};

export const messageTypes: Record<string, Bilingual> = {
  question: { ja: '質問', en: 'Question' },
  answer: { ja: '回答', en: 'Answer' },
  preference_change: { ja: '意向の変更', en: 'Preference change' },
  ack: { ja: '受領', en: 'Acknowledgement' },
  status: { ja: '状況報告', en: 'Status' },
  note: { ja: 'メモ', en: 'Note' },
};

export const parties: Record<string, Bilingual> = {
  analysis_center: { ja: '解析センター', en: 'Analysis centre' },
  data_center: { ja: 'データセンター', en: 'Data centre' },
  hospital: { ja: '医療機関', en: 'Hospital' },
  patient: { ja: '本人', en: 'Participant' },
  system: { ja: 'システム', en: 'System' },
  all: { ja: '全員', en: 'Everyone' },
  any: { ja: '全員', en: 'Any' },
};

export const classifications: Record<string, Bilingual> = {
  pathogenic: { ja: '病的', en: 'Pathogenic' },
  likely_pathogenic: { ja: 'おそらく病的', en: 'Likely pathogenic' },
  uncertain_significance: { ja: '意義不明', en: 'Uncertain significance' },
  likely_benign: { ja: 'おそらく良性', en: 'Likely benign' },
  benign: { ja: '良性', en: 'Benign' },
};

export const siteDeclineReasons: Record<string, Bilingual> = {
  patient_deceased: { ja: '本人が死亡', en: 'Patient deceased' },
  clinical_judgement: { ja: '臨床的判断', en: 'Clinical judgement' },
  patient_lost_to_follow_up: { ja: '追跡不能', en: 'Lost to follow-up' },
  other: { ja: 'その他', en: 'Other' },
};

// Why the server refused a filing or a step; its own message (English) is shown beside it.
export const findingErrors: Record<string, Bilingual> = {
  gene_not_in_acmg_sf: { ja: 'この遺伝子は選んだ版の ACMG SF リストにありません', en: 'The gene is not on the chosen ACMG SF list version' },
  acmg_sf_version_not_active: { ja: 'この ACMG SF リストの版は使われていません', en: 'This ACMG SF list version is not in use' },
  secondary_must_be_germline: { ja: '二次的所見は生殖細胞系列に限られます', en: 'Secondary findings must be germline' },
  secondary_must_be_pathogenic: { ja: '二次的所見は病的またはおそらく病的に限られます', en: 'Secondary findings must be pathogenic or likely pathogenic' },
  participant_withdrawn: { ja: '参加者は同意を撤回しています', en: 'The participant has withdrawn' },
  four_eyes_required: { ja: '登録した本人以外の解析者が判断します（ダブルチェック）', en: 'A second analyst, not the one who filed it, must decide (four eyes)' },
  wrong_party: { ja: 'この手順は別の担当者が行います', en: 'Another party makes this step' },
  invalid_transition: { ja: '今の状態ではこの手順は行えません', en: 'This step is not possible in the current state' },
  consent_changed: { ja: '同意の変更により状態が変わりました。確認してください', en: 'The live consent moved the finding first; please review it' },
  concurrent_change: { ja: '他の人が同時に更新しました。再読み込みしてください', en: 'Someone else changed it at the same time; reload' },
  too_few_contact_attempts: { ja: '連絡不能とするには規定回数の連絡記録が必要です', en: 'Record the required number of contact attempts first' },
  confirmation_required: { ja: '確認が必要です', en: 'Confirmation is required' },
  designated_relative_exists: { ja: '指定された家族がいるため、この理由では終了できません', en: 'A designated relative exists: this reason cannot close it' },
  no_designated_relative: { ja: '指定された家族は登録されていません', en: 'No designated relative is recorded' },
  not_germline: { ja: '生殖細胞系列の所見ではありません（確認検査は不要）', en: 'Not a germline finding (no confirmatory test)' },
  not_reportable: { ja: 'この分類は返却の対象になりません', en: 'This classification is not reportable' },
  finding_closed: { ja: 'この所見は終了しています', en: 'This finding is closed' },
  already_reclassified: { ja: 'すでに再分類されています', en: 'Already reclassified' },
  not_analysis_center: { ja: '解析センターの解析者だけが登録できます', en: 'Only an analysis centre analyst may file' },
  not_participant_analyst: { ja: 'この参加者の検体を解析した解析センターだけが登録できます', en: "Only the analysis centre that analysed this participant's specimens may file" },
};

export function label(map: Record<string, Bilingual>, lang: Lang, code: string | null | undefined): string {
  if (!code) return '—';
  return map[code]?.[lang] ?? code;
}

// Analysis orders, incoming shipments and the custody steps they govern (server codes).
export const orderStates: Record<string, Bilingual> = {
  open: { ja: '依頼中', en: 'Open' },
  started: { ja: '解析開始', en: 'Started' },
  cancelled: { ja: '取消', en: 'Cancelled' },
};

export const custodyErrors: Record<string, Bilingual> = {
  wrong_organisation: { ja: 'この検体に対してこの手順を行えるのは別の機関です', en: 'Another organisation makes this step for this specimen' },
  wrong_role: { ja: 'この手順は別の役割の担当者が行います', en: 'A person with another role makes this step' },
  invalid_transition: { ja: '今の状態ではこの手順は行えません', en: 'This step is not possible in the current state' },
  invalid_destination: { ja: '送付先は登録されたシーケンス施設を選んでください', en: 'Choose a registered sequencing facility as destination' },
  missing_field: { ja: '必須項目が入力されていません', en: 'A required item is missing' },
  concurrent_change: { ja: '他の人が同時に更新しました。再読み込みしてください', en: 'Someone else changed it at the same time; reload' },
  not_data_steward: { ja: 'データセンターのデータ管理者だけが行えます', en: 'Only a data steward of the data centre may do this' },
  invalid_centre: { ja: '登録された解析センターを選んでください', en: 'Choose a registered analysis centre' },
  order_exists: { ja: 'この検体にはすでに有効な解析依頼があります', en: 'This specimen already has an open analysis order' },
  order_not_found: { ja: '解析依頼が見つかりません', en: 'Analysis order not found' },
  invalid_specimen_state: { ja: 'この検体はすでに解析済みです', en: 'This specimen is already analysed' },
};
