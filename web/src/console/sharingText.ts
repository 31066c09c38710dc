// The words of the sharing pages (issue 6's datasets, releases, applications, committee review,
// grants and personal data-access tokens) in Japanese and English, and the labels of the codes
// the sharing API sends bare.
import { useI18n, type Bilingual, type Lang } from '../i18n';

const texts = {
  datasets: { ja: 'データセット', en: 'Datasets' },
  dataset: { ja: 'データセット', en: 'Dataset' },
  datasetsIntro: {
    ja: '件数は今あなたが見られるもの（各参加者の最新の同意で絞り込み済み）です。',
    en: 'Counts are what you may see now (filtered by each participant’s live consent).',
  },
  visibleFiles: { ja: '閲覧できるファイル', en: 'Visible files' },
  visibleParticipants: { ja: '閲覧できる参加者', en: 'Visible participants' },
  showFiles: { ja: 'ファイルを表示', en: 'Show files' },
  filesOf: { ja: '{name} のファイル', en: 'Files of {name}' },
  noFiles: { ja: '今見られるファイルはありません。', en: 'No files you may see now.' },
  fileName: { ja: 'ファイル名', en: 'File name' },
  dataType: { ja: 'データ種別', en: 'Data type' },
  size: { ja: 'サイズ', en: 'Size' },
  participant: { ja: '参加者', en: 'Participant' },
  grant: { ja: '利用許可', en: 'Grant' },
  group: { ja: '研究班', en: 'Research group' },
  program: { ja: '事業', en: 'Programme' },
  releases: { ja: 'リリース', en: 'Releases' },
  tier: { ja: '公開区分', en: 'Tier' },
  releaseDate: { ja: 'リリース日', en: 'Release date' },
  controlledAt: { ja: '制限公開への移行日', en: 'Controlled from' },
  publicAggregatesAt: { ja: '集計値公開日', en: 'Public aggregates from' },
  embargoMonths: { ja: '公開制限期間（月）', en: 'Embargo (months)' },
  tierHistory: { ja: '公開区分の履歴', en: 'Tier history' },
  dueAt: { ja: '予定日時', en: 'Due' },
  appliedAt: { ja: '実施日時', en: 'Applied' },
  actor: { ja: '実施者', en: 'By' },
  event: { ja: '出来事', en: 'Event' },
  from: { ja: '前', en: 'From' },
  to: { ja: '後', en: 'To' },
  // Applications
  applications: { ja: '利用申請', en: 'Applications' },
  application: { ja: '利用申請', en: 'Application' },
  underReview: { ja: '審査中の申請', en: 'Applications under review' },
  otherApplications: { ja: 'その他の申請', en: 'Other applications' },
  myApplications: { ja: '自分の申請', en: 'My applications' },
  newApplication: { ja: '新しい利用申請', en: 'New application' },
  noApplications: { ja: '申請はありません。', en: 'No applications.' },
  applicant: { ja: '申請者', en: 'Applicant' },
  organisation: { ja: '所属機関', en: 'Organisation' },
  track: { ja: '審査区分', en: 'Track' },
  state: { ja: '状態', en: 'State' },
  titleField: { ja: '研究課題名', en: 'Title' },
  purpose: { ja: '利用目的（DUO）', en: 'Purpose (DUO)' },
  primaryPurpose: { ja: '主な利用目的', en: 'Primary purpose' },
  disease: { ja: '対象疾患', en: 'Disease' },
  commercial: { ja: '営利目的を含む', en: 'Includes commercial use' },
  methodsDevelopment: { ja: '手法開発を含む', en: 'Includes methods development' },
  ancestry: { ja: '集団・祖先の研究を含む', en: 'Includes population/ancestry research' },
  dataTypes: { ja: 'データ種別', en: 'Data types' },
  fastqJustification: { ja: 'FASTQ が必要な理由', en: 'Why FASTQ is needed' },
  fastqHelp: {
    ja: '一次解析データ（CRAM・VCF）が標準です。FASTQ は理由を添えて申請します。',
    en: 'Primary analysis data (CRAM, VCF) is the default; FASTQ is requested with a reason.',
  },
  ethics: { ja: '倫理審査の承認書', en: 'Ethics approval document' },
  ethicsFile: { ja: '倫理審査承認書のファイル', en: 'Ethics approval file' },
  fileHashHelp: {
    ja: 'PDF またはテキスト（20 MiB まで）。下書きの作成後にアップロードされ、サーバーで暗号化して保管されます。審査会の委員が閲覧し、SHA-256 で照合します。',
    en: 'PDF or plain text (up to 20 MiB). Uploaded once the draft exists and stored encrypted by the server; the review committee reads it and checks its SHA-256.',
  },
  hashing: { ja: 'SHA-256 を計算中…', en: 'Computing SHA-256…' },
  approvalNumber: { ja: '承認番号', en: 'Approval number' },
  approvedOn: { ja: '承認日', en: 'Approved on' },
  industryOnly: { ja: '産業利用の申請のみ', en: 'Industry track only' },
  agreement: { ja: '締結済みのデータ利用契約', en: 'Signed data use agreement' },
  agreementFile: { ja: '契約書のファイル', en: 'Agreement file' },
  signedOn: { ja: '締結日', en: 'Signed on' },
  reference: { ja: '契約番号', en: 'Reference' },
  fee: { ja: '利用料の記録', en: 'Fee record' },
  invoiceNo: { ja: '請求書番号', en: 'Invoice number' },
  amountJpy: { ja: '金額（円）', en: 'Amount (JPY)' },
  paidOn: { ja: '支払日', en: 'Paid on' },
  period: { ja: '利用期間', en: 'Period' },
  startDate: { ja: '開始日', en: 'Start date' },
  endDate: { ja: '終了日', en: 'End date' },
  saveDraft: { ja: '下書きとして作成', en: 'Create draft' },
  submit: { ja: '審査に提出', en: 'Submit for review' },
  withdraw: { ja: '申請を取り下げる', en: 'Withdraw the application' },
  missingRequirements: { ja: '不足している要件', en: 'Missing requirements' },
  noneMissing: { ja: 'なし（提出できます）', en: 'None (ready to submit)' },
  trackRules: { ja: 'この区分の審査基準', en: 'Rules of this track' },
  requirement: { ja: '要件', en: 'Requirement' },
  met: { ja: '✔ 充足', en: '✔ met' },
  notMet: { ja: '✖ 不足', en: '✖ missing' },
  decisionRule: {
    ja: '決定の規則：賛成・反対あわせて {n} 票以上で、賛成が反対より多ければ承認、そうでなければ却下。申請者と同じ機関の委員は利益相反のため審査しません。',
    en: 'Decision rule: at least {n} approve-or-reject votes; approved when approvals outnumber rejections, otherwise rejected. Members of the applicant’s organisation do not review (conflict of interest).',
  },
  prescreen: { ja: 'DUO 事前確認（同意による対象者数）', en: 'DUO pre-screen (participants the purpose covers)' },
  prescreenIntro: {
    ja: '各参加者の最新の同意から、この利用目的で使える人数を数えています。',
    en: 'From each participant’s live consent: how many the purpose covers.',
  },
  participants: { ja: '参加者数', en: 'Participants' },
  covered: { ja: '対象', en: 'Covered' },
  notCovered: { ja: '対象外', en: 'Not covered' },
  withdrawn: { ja: '撤回', en: 'Withdrawn' },
  reasons: { ja: '対象外の理由', en: 'Reasons not covered' },
  history: { ja: '審査の記録（すべて）', en: 'Review history (complete)' },
  time: { ja: '日時', en: 'Time' },
  user: { ja: '利用者', en: 'User' },
  kind: { ja: '種類', en: 'Kind' },
  vote: { ja: '投票', en: 'Vote' },
  body: { ja: '内容・理由', en: 'Text or reason' },
  tally: { ja: '集計', en: 'Tally' },
  tallyLine: {
    ja: '賛成 {approve}・反対 {reject}・棄権 {abstain}（利益相反で除外 {conflicted}）',
    en: '{approve} approve, {reject} reject, {abstain} abstain ({conflicted} excluded for conflict of interest)',
  },
  outcomeNow: { ja: '今決定すると', en: 'Deciding now gives' },
  comment: { ja: 'コメント', en: 'Comment' },
  addComment: { ja: 'コメントを記録', en: 'Add comment' },
  yourVote: { ja: 'あなたの投票', en: 'Your vote' },
  voteReason: { ja: '投票の理由', en: 'Reason for the vote' },
  castVote: { ja: '投票する', en: 'Cast vote' },
  decide: { ja: '審査結果を確定する', en: 'Record the decision' },
  decideHelp: {
    ja: '上の記録と集計を確認してから確定してください。承認すると同時に利用許可が発行されます。',
    en: 'Check the history and tally above first. Approval issues the grant in the same step.',
  },
  conflictTitle: { ja: '利益相反のため審査できません', en: 'You cannot review this (conflict of interest)' },
  conflictBody: {
    ja: 'あなたは申請者と同じ機関（{org}）に所属しているため、この申請へのコメント・投票・決定はできません。記録は閲覧できます。',
    en: 'You belong to the applicant’s organisation ({org}), so you may not comment, vote or decide on this application. You may read its record.',
  },
  notUnderReview: { ja: 'この申請は審査中ではありません。', en: 'This application is not under review.' },
  grantIssued: { ja: '発行された利用許可', en: 'Grant issued' },
  // Grants
  grants: { ja: '利用許可', en: 'Grants' },
  noGrants: { ja: '利用許可はありません。', en: 'No grants.' },
  holder: { ja: '保有者', en: 'Holder' },
  status: { ja: '状態', en: 'Status' },
  startsAt: { ja: '開始', en: 'Starts' },
  expiresAt: { ja: '期限（この時刻から無効）', en: 'Expires (invalid from)' },
  revoke: { ja: '取り消す', en: 'Revoke' },
  revokeReason: { ja: '取り消しの理由', en: 'Reason for revoking' },
  revokedBecause: { ja: '取り消し理由', en: 'Revoked because' },
  revokeHelp: { ja: '取り消しは次のリクエストから効力を持ちます。', en: 'Revoking takes effect on the next request.' },
  // Tokens
  tokens: { ja: 'データアクセス用トークン', en: 'Data-access tokens' },
  tokensIntro: {
    ja: 'samtools・bcftools などのコマンドから htsget・DRS でデータを読むための個人用トークンです。あなたの権限と利用許可の範囲で動き、作成時に一度だけ表示されます。',
    en: 'A personal token for command-line clients (samtools, bcftools) reading through htsget and DRS. It acts as you, within your grants, and is shown once.',
  },
  tokenName: { ja: 'トークンの名前', en: 'Token name' },
  tokenDays: { ja: '有効日数（最大 90 日）', en: 'Valid for (days, at most 90)' },
  tokenActions: { ja: '許可する操作', en: 'Allowed actions' },
  createToken: { ja: 'トークンを作成', en: 'Create token' },
  tokenOnce: { ja: 'トークン（一度だけ表示されます。今すぐ保存してください）', en: 'Token (shown once: save it now)' },
  copy: { ja: 'コピー', en: 'Copy' },
  copied: { ja: 'コピーしました', en: 'Copied' },
  exampleFile: { ja: '例に使うファイル', en: 'File for the example' },
  example: { ja: 'コマンドの例', en: 'Example commands' },
  myTokens: { ja: '作成済みのトークン', en: 'Your tokens' },
  expires: { ja: '期限', en: 'Expires' },
  revoked: { ja: '取り消し済み', en: 'Revoked' },
  active: { ja: '有効', en: 'Active' },
  // Steward
  createDataset: { ja: 'データセットを作成', en: 'Create dataset' },
  nameJa: { ja: '名称（日本語）', en: 'Name (Japanese)' },
  nameEn: { ja: '名称（英語）', en: 'Name (English)' },
  description: { ja: '説明', en: 'Description' },
  addFiles: { ja: '参加者のファイルを追加', en: 'Add participants’ files' },
  participantIds: { ja: '参加者ID（仮名、1行に1つ）', en: 'Participant IDs (pseudonyms, one a line)' },
  fileIds: { ja: 'ファイルID（1行に1つ、任意）', en: 'File IDs (one a line, optional)' },
  includeFastq: { ja: 'FASTQ も含める（申請がある場合のみ）', en: 'Include FASTQ (on request only)' },
  added: { ja: '追加 {added} 件、対象外 {skipped} 件', en: '{added} added, {skipped} skipped' },
  createRelease: { ja: 'リリースを作成（公開制限つき）', en: 'Release (with embargo)' },
  embargoDefault: { ja: '空欄なら事業の既定値', en: 'Blank: the programme’s default' },
  settings: { ja: '共有の設定', en: 'Sharing settings' },
  save: { ja: '保存', en: 'Save' },
  saved: { ja: '保存しました', en: 'Saved' },
  tick: { ja: '期限の来た区分移行を今すぐ実行', en: 'Apply due tier moves now' },
  tickResult: {
    ja: '確認 {checked} 件、制限公開へ {to_controlled} 件、集計公開へ {to_public_aggregates} 件',
    en: '{checked} checked, {to_controlled} to controlled, {to_public_aggregates} to public aggregates',
  },
  back: { ja: '← 一覧へ', en: '← Back to list' },
  // Application documents and plan (issue 14)
  documents: { ja: '申請書類', en: 'Application documents' },
  documentsIntro: {
    ja: '書類はサーバーで暗号化して保管され、申請者・審査会の委員・データ管理者だけが閲覧できます。閲覧はすべて監査ログに記録されます。',
    en: 'Documents are stored encrypted; only the applicant, review committee members and data stewards may read them. Every read is recorded in the audit log.',
  },
  noDocuments: { ja: '書類はまだありません。', en: 'No documents yet.' },
  documentKind: { ja: '書類の種類', en: 'Document' },
  read: { ja: '閲覧', en: 'Read' },
  readNamed: { ja: '{name}を閲覧', en: 'Read the {name}' },
  shaMatches: { ja: '✔ 受け取った内容の SHA-256 は記録と一致します', en: '✔ The SHA-256 of what was received matches the record' },
  shaDiffers: { ja: '✖ 受け取った内容の SHA-256 が記録と一致しません', en: '✖ The SHA-256 of what was received does not match the record' },
  openInTab: { ja: '「{name}」を新しいタブで開く', en: 'Open “{name}” in a new tab' },
  uploadNamed: { ja: '{name}のファイルを選んでアップロード', en: 'Choose and upload the {name} file' },
  uploading: { ja: 'アップロード中…', en: 'Uploading…' },
  protocolFile: { ja: '研究計画書のファイル（任意）', en: 'Research protocol file (optional)' },
  collaboratorsHelp: { ja: '共同研究者を 1 行に 1 人（所属・氏名）。', en: 'One collaborator a line (affiliation, name).' },
  fieldRequired: { ja: '「{field}」を入力してください', en: '{field} is required' },
  draftKeptUploadFailed: {
    ja: '下書きは作成しましたが、書類のアップロードに失敗しました。各書類の横の理由を確認し、もう一度送信してください。',
    en: 'The draft was created, but a document could not be uploaded: see the reason next to it and send again.',
  },
  retryUploads: { ja: '書類をもう一度アップロード', en: 'Upload the documents again' },
  openDraft: { ja: '下書きを開く', en: 'Open the draft' },
  decideConfirm: {
    ja: '審査結果「{outcome}」を確定します。確定後は変更できません。よろしいですか？',
    en: 'Record the decision “{outcome}”? It cannot be changed afterwards.',
  },
  decideYes: { ja: '「{outcome}」で確定する', en: 'Record “{outcome}”' },
  cancel: { ja: 'やめる', en: 'Cancel' },
  rejectReason: { ja: '反対の理由（必須）', en: 'Reason for rejecting (required)' },
  none: { ja: 'なし', en: 'none' },
  yes: { ja: 'あり', en: 'yes' },
} satisfies Record<string, Bilingual>;

export type SharingKey = keyof typeof texts;

export function useSharingText(): (key: SharingKey, vars?: Record<string, string | number>) => string {
  const { lang } = useI18n();
  return (key, vars = {}) => {
    let s = texts[key][lang];
    for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
    return s;
  };
}

export const applicationStates: Record<string, Bilingual> = {
  draft: { ja: '下書き', en: 'Draft' },
  submitted: { ja: '審査中', en: 'Under review' },
  approved: { ja: '承認', en: 'Approved' },
  rejected: { ja: '却下', en: 'Rejected' },
  withdrawn: { ja: '取り下げ', en: 'Withdrawn' },
};

export const historyKinds: Record<string, Bilingual> = {
  created: { ja: '作成', en: 'Created' },
  submitted: { ja: '提出', en: 'Submitted' },
  comment: { ja: 'コメント', en: 'Comment' },
  vote: { ja: '投票', en: 'Vote' },
  approved: { ja: '承認（決定）', en: 'Approved (decision)' },
  rejected: { ja: '却下（決定）', en: 'Rejected (decision)' },
  withdrawn: { ja: '取り下げ', en: 'Withdrawn' },
  decision: { ja: '決定', en: 'Decision' },
};

export const votes: Record<string, Bilingual> = {
  approve: { ja: '賛成（承認）', en: 'Approve' },
  reject: { ja: '反対（却下）', en: 'Reject' },
  abstain: { ja: '棄権', en: 'Abstain' },
};

export const outcomes: Record<string, Bilingual> = {
  pending: { ja: '未決（票が足りない）', en: 'Pending (no quorum)' },
  approved: { ja: '承認', en: 'Approved' },
  rejected: { ja: '却下', en: 'Rejected' },
};

export const tracks: Record<string, Bilingual> = {
  academic: { ja: '学術利用', en: 'Academic' },
  industry: { ja: '産業利用', en: 'Industry' },
};

export const tiers: Record<string, Bilingual> = {
  group_restricted: { ja: '研究班内限定', en: 'Group-restricted' },
  controlled: { ja: '制限公開（承認された申請者）', en: 'Controlled (approved applicants)' },
  public_aggregates: { ja: '集計値のみ一般公開', en: 'Public aggregates only' },
};

export const grantStatuses: Record<string, Bilingual> = {
  active: { ja: '✔ 有効', en: '✔ Active' },
  pending: { ja: '開始前', en: 'Not started' },
  expired: { ja: '期限切れ', en: 'Expired' },
  revoked: { ja: '✖ 取り消し', en: '✖ Revoked' },
};

export const requirements: Record<string, Bilingual> = {
  ethics_approval: { ja: '倫理審査の承認', en: 'Ethics approval' },
  signed_agreement: { ja: '締結済みの契約', en: 'Signed agreement' },
  fee_record: { ja: '利用料の記録', en: 'Fee record' },
};

// DUO codes (GA4GH Data Use Ontology) with what they permit, shown next to the choice.
export const primaryPurposes: { code: string; duo: string; label: Bilingual; definition: Bilingual }[] = [
  {
    code: 'GRU', duo: 'DUO:0000042',
    label: { ja: '一般研究利用 (GRU)', en: 'General research use (GRU)' },
    definition: { ja: '研究目的であれば制限なく利用', en: 'Use for any research purpose' },
  },
  {
    code: 'HMB', duo: 'DUO:0000006',
    label: { ja: '健康・医学・生物医学研究 (HMB)', en: 'Health/medical/biomedical research (HMB)' },
    definition: { ja: '健康・医学・生物医学の研究に限る', en: 'Limited to health, medical or biomedical research' },
  },
  {
    code: 'DS', duo: 'DUO:0000007',
    label: { ja: '疾患特異的研究 (DS)', en: 'Disease-specific research (DS)' },
    definition: { ja: '指定した疾患の研究に限る', en: 'Limited to research on the named disease' },
  },
  {
    code: 'POA', duo: 'DUO:0000011',
    label: { ja: '集団・祖先研究のみ (POA)', en: 'Population origins or ancestry research only (POA)' },
    definition: { ja: '集団の起源・祖先の研究に限る', en: 'Limited to the study of population origins or ancestry' },
  },
];

// Why the server refused a sharing request; its own message is shown beside these words.
export const sharingErrors: Record<string, Bilingual> = {
  conflict_of_interest: {
    ja: '利益相反：申請者と同じ機関の委員は審査できません',
    en: 'Conflict of interest: members of the applicant’s organisation may not review',
  },
  not_committee: { ja: '審査会の委員だけが審査できます', en: 'Only review committee members review' },
  not_under_review: { ja: 'この申請は審査中ではありません', en: 'This application is not under review' },
  no_quorum: { ja: '票が足りません（賛成・反対あわせて 2 票以上必要）', en: 'No quorum (at least 2 approve-or-reject votes are needed)' },
  requirements_missing: { ja: 'この区分に必要な書類が揃っていません', en: 'Requirements of this track are missing' },
  invalid_transition: { ja: '今の状態ではこの操作はできません', en: 'Not possible in the current state' },
  period_over: { ja: '申請した利用期間はすでに終わっています', en: 'The requested period has already ended' },
  organisation_not_eligible: { ja: 'あなたの機関は学術・産業のどちらの区分でも申請できません', en: 'Your organisation is neither academic nor industry' },
  not_applicant: { ja: '申請者本人だけが行えます', en: 'Only the applicant may do this' },
  already_revoked: { ja: 'すでに取り消されています', en: 'Already revoked' },
  dataset_empty: { ja: 'ファイルのないデータセットはリリースできません', en: 'Add files before releasing the dataset' },
  fastq_not_requested: { ja: 'FASTQ は「FASTQ も含める」を選んだときだけ追加できます', en: 'FASTQ is added only with “Include FASTQ”' },
  program_mismatch: { ja: 'データセットと違う事業の参加者です', en: 'The participant belongs to another programme' },
  group_not_found: { ja: 'その研究班はありません', en: 'No such research group' },
  missing_field: { ja: '必須項目が空です', en: 'A required field is empty' },
  action_not_allowed: { ja: 'あなたの役割では許可されない操作です', en: 'Your roles may not perform this action' },
  access_denied: { ja: 'この操作は許可されていません（理由は監査ログに記録されています）', en: 'Access denied (the reason is recorded in the audit log)' },
  person_required: { ja: '二要素認証でログインした本人だけが作成できます', en: 'Only a person signed in with a second factor may create one' },
  // Application documents (issue 14)
  document_immutable: { ja: '提出後の申請の書類は変更できません', en: 'A submitted application’s documents cannot change' },
  document_type: { ja: 'PDF またはテキストファイルだけを受け付けます', en: 'Only PDF or plain-text files are accepted' },
  document_empty: { ja: 'ファイルが空です', en: 'The file is empty' },
  document_too_large: { ja: 'ファイルが大きすぎます（20 MiB まで）', en: 'The file is too large (20 MiB at most)' },
  document_not_found: { ja: 'その書類はありません', en: 'No such document' },
  document_kind_not_found: { ja: 'その種類の書類は受け付けていません', en: 'No such kind of document' },
  document_corrupt: { ja: '保管された書類が記録と一致しません（管理者に連絡してください）', en: 'The stored document does not match its record (tell the operator)' },
  invalid_file_name: { ja: 'ファイル名に使えない文字が含まれています', en: 'The file name holds characters that are not allowed' },
  application_not_found: { ja: 'その申請はありません（または閲覧できません）', en: 'No such application (or you may not see it)' },
};

// The application's documents (issue 14), as the server's DocumentKinds() names them.
export const documentKinds: Record<string, Bilingual> = {
  ethics_approval: { ja: '倫理審査の承認書', en: 'Ethics approval' },
  protocol: { ja: '研究計画書', en: 'Research protocol' },
  signed_agreement: { ja: '署名済みの契約書', en: 'Signed agreement' },
};

// The application's plan fields, by the server's field names (errors name them).
export const planFields: Record<string, Bilingual> = {
  abstract: { ja: '研究の概要', en: 'Abstract' },
  principal_investigator: { ja: '研究代表者', en: 'Principal investigator' },
  collaborators: { ja: '共同研究者', en: 'Collaborators' },
  data_security_plan: { ja: 'データの安全管理計画', en: 'Data-security plan' },
};

export function errorWords(lang: Lang, e: unknown): string {
  const err = e as { code?: string; message?: string; field?: string };
  const code = err.code ?? 'error';
  const words = sharingErrors[code]?.[lang];
  const field = err.field ? ` [${err.field}]` : '';
  return words ? `${words} (${code}: ${err.message}${field})` : `${code}: ${err.message ?? ''}${field}`;
}

export function bytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
