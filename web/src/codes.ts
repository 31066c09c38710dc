// ja/en text for the codes the server sends bare (states, roles, classes, units, kinds) and for
// its error codes, so the Japanese console never shows an English server message or a raw code.
// An error is shown as: what went wrong (from the code), which field (from the field name,
// through fieldLabels), and never the server's English message in the Japanese UI.
import { ApiError } from './api';
import type { Bilingual, Lang } from './i18n';

const b = (ja: string, en: string): Bilingual => ({ ja, en });

export const specimenStates: Record<string, Bilingual> = {
  collected: b('採取済み', 'Collected'),
  shipped: b('発送済み', 'Shipped'),
  received: b('受領済み', 'Received'),
  rejected: b('受領拒否', 'Rejected'),
  library_prepared: b('ライブラリ調製済み', 'Library prepared'),
  sequenced: b('解読済み', 'Sequenced'),
  qc_passed: b('品質基準合格', 'QC passed'),
  qc_failed: b('品質基準不合格', 'QC failed'),
  analysed: b('解析済み', 'Analysed'),
};

export const tumourNormal: Record<string, Bilingual> = {
  tumour: b('腫瘍', 'Tumour'),
  normal: b('正常（対照）', 'Normal'),
};

export const specimenTypes: Record<string, Bilingual> = {
  solid_tissue: b('固形組織', 'Solid tissue'),
  blood: b('血液', 'Blood'),
  bone_marrow: b('骨髄', 'Bone marrow'),
  saliva: b('唾液', 'Saliva'),
  buccal: b('口腔粘膜', 'Buccal swab'),
  plasma_cfDNA: b('血漿（cfDNA）', 'Plasma (cfDNA)'),
  cultured_cells: b('培養細胞', 'Cultured cells'),
  other: b('その他', 'Other'),
};

export const preservations: Record<string, Bilingual> = {
  fresh_frozen: b('新鮮凍結', 'Fresh frozen'),
  FFPE: b('ホルマリン固定パラフィン包埋（FFPE）', 'FFPE'),
  EDTA: b('EDTA 採血管', 'EDTA tube'),
  cfDNA_tube: b('cfDNA 採血管', 'cfDNA tube'),
  other: b('その他', 'Other'),
};

export const consentStates: Record<string, Bilingual> = {
  none: b('同意なし（未取得）', 'No consent yet'),
  active: b('同意あり', 'Active'),
  withdrawn_no_contact: b('撤回（今後の連絡のみ拒否）', 'Withdrawn: no further contact'),
  withdrawn_no_new_data: b('撤回（新たな収集を停止）', 'Withdrawn: no new data'),
  withdrawn_full: b('全面撤回', 'Fully withdrawn'),
};

export const itemClasses: Record<string, Bilingual> = {
  MANDATORY: b('必須', 'Mandatory'),
  OPT_OUT: b('拒否できる項目（既定は同意）', 'Opt-out'),
  OPT_IN: b('希望する場合に同意する項目', 'Opt-in'),
};

export const signers: Record<string, Bilingual> = {
  self: b('本人', 'The participant'),
  legal_representative: b('代諾者', 'Legal representative'),
  self_plus_representative: b('本人と代諾者', 'The participant and a representative'),
};

export const relationships: Record<string, Bilingual> = {
  parent: b('親', 'Parent'),
  spouse: b('配偶者', 'Spouse'),
  child: b('子', 'Child'),
  sibling: b('兄弟姉妹', 'Sibling'),
  guardian: b('後見人', 'Guardian'),
  other: b('その他', 'Other'),
};

export const consentMethods: Record<string, Bilingual> = {
  paper: b('紙の同意書', 'Paper form'),
  electronic: b('電子同意', 'Electronic'),
};

export const roles: Record<string, Bilingual> = {
  clinician: b('医療機関の入力担当者', 'Clinician'),
  sequencing_operator: b('解読施設の担当者', 'Sequencing operator'),
  analyst: b('解析担当者', 'Analyst'),
  security_officer: b('セキュリティ責任者', 'Security officer'),
  data_steward: b('データスチュワード', 'Data steward'),
  committee_member: b('審査委員', 'Committee member'),
  researcher: b('研究者', 'Researcher'),
};

export const organisationKinds: Record<string, Bilingual> = {
  hospital: b('医療機関', 'Hospital'),
  sequencing_facility: b('解読施設', 'Sequencing facility'),
  analysis_center: b('解析センター', 'Analysis centre'),
  data_center: b('データセンター', 'Data centre'),
  academic: b('学術機関', 'Academic'),
  industry: b('企業', 'Industry'),
};

export const tiers: Record<string, Bilingual> = {
  public: b('公開', 'Public'),
  registered: b('登録利用者限定', 'Registered'),
  controlled: b('制限公開（審査あり）', 'Controlled'),
  consortium: b('研究班内限定', 'Consortium'),
};

// Units of the data dictionary, as shown after a value.
export const units: Record<string, Bilingual> = {
  year: b('歳', 'years'),
  day: b('日', 'days'),
  '%': b('%', '%'),
  min: b('分', 'min'),
  h: b('時間', 'h'),
  ng: b('ng', 'ng'),
  cm: b('cm', 'cm'),
  kg: b('kg', 'kg'),
  Gy: b('Gy', 'Gy'),
  'pack-year': b('パック・年', 'pack-years'),
};

export function codeLabel(map: Record<string, Bilingual>, lang: Lang, code: string | null | undefined): string {
  if (!code) return '—';
  return map[code]?.[lang] ?? code;
}

// Labels of the request fields the server names in its errors.
export const fieldLabels: Record<string, Bilingual> = {
  local_id: b('院内ID', 'Local ID'),
  program: b('事業', 'Programme'),
  disease_category: b('疾患区分', 'Disease category'),
  index_date: b('インデックス日', 'Index date'),
  tumour_normal: b('腫瘍／正常', 'Tumour or normal'),
  specimen_type: b('検体の種類', 'Specimen type'),
  preservation: b('保存方法', 'Preservation'),
  collection_date: b('採取日', 'Collection date'),
  note: b('メモ', 'Note'),
  to: b('次の状態', 'Next state'),
  destination: b('送付先', 'Destination'),
  kind: b('種別', 'Kind'),
  icf_version: b('説明文書の版', 'ICF version'),
  language: b('言語', 'Language'),
  signed_date: b('署名日', 'Signed date'),
  decisions: b('同意項目', 'Consent items'),
  details: b('同意の詳細', 'Consent details'),
  'details.signer': b('署名者', 'Signer'),
  'details.method': b('同意の方法', 'Method'),
  'details.representative': b('代諾者', 'Representative'),
  'details.representative.name': b('代諾者の氏名', "Representative's name"),
  'details.representative.relationship': b('本人との関係', 'Relationship'),
  'details.designated_relative': b('指定された家族', 'Designated relative'),
  'details.designated_relative.name': b('指定された家族の氏名', "Designated relative's name"),
  'details.designated_relative.contact': b('指定された家族の連絡先', "Designated relative's contact"),
  level: b('撤回の範囲', 'Withdrawal level'),
  reason: b('理由', 'Reason'),
  data: b('入力内容', 'Data'),
  holder: b('保管者', 'Holder'),
  // The cohort variant store (issue 15).
  chrom: b('染色体', 'Chromosome'),
  start: b('開始位置', 'Start'),
  end: b('終了位置', 'End'),
  gene: b('遺伝子', 'Gene'),
  pos: b('位置', 'Position'),
  ref: b('参照塩基', 'Reference bases'),
  alt: b('変異塩基', 'Alternate bases'),
  diagnosis: b('診断（ICD-10）', 'Diagnosis (ICD-10)'),
  stage: b('病期', 'Stage'),
  sex: b('性別', 'Sex'),
  age_band: b('年齢階級', 'Age band'),
  file_id: b('ファイル', 'File'),
  specimen_id: b('検体', 'Specimen'),
  reference: b('参照ゲノム', 'Reference genome'),
  pipeline: b('パイプライン', 'Pipeline'),
  // Tumour/normal pair runs (issue 16).
  normal_specimen_id: b('正常検体', 'Normal specimen'),
};

export function fieldLabel(lang: Lang, field: string | undefined): string {
  if (!field) return '';
  if (fieldLabels[field]) return fieldLabels[field][lang];
  const line = /^line (\d+)$/.exec(field);
  if (line) return lang === 'ja' ? `${line[1]} 行目` : `line ${line[1]}`;
  const item = /^decisions\.(C\d\d)$/.exec(field);
  if (item) return lang === 'ja' ? `同意項目 ${item[1]}` : `consent item ${item[1]}`;
  return field;
}

// What an error code means, in words. A field-specific "invalid_<field>" falls back to the
// generic "not a valid value" with the field's label.
export const errorTexts: Record<string, Bilingual> = {
  missing_field: b('{field}を入力してください', '{field} is required'),
  invalid_type: b('{field}の形式が正しくありません', '{field} has the wrong type'),
  value_too_long: b('{field}が長すぎます', '{field} is too long'),
  unknown_field: b('{field}はこの画面では使えません', '{field} is not accepted here'),
  unexpected_field: b('{field}はこの画面では使えません', '{field} is not accepted here'),
  invalid_date: b('{field}は実在する日付（YYYY-MM-DD）で入力してください', '{field} must be a real date (YYYY-MM-DD)'),
  date_in_future: b('{field}に未来の日付は入力できません', '{field} cannot be in the future'),
  invalid_collection_date: b('採取日が正しくありません（実在する日付で、未来でなく、インデックス日の10年以上前でないこと）', 'The collection date is not valid (a real date, not in the future, not more than 10 years before the index date)'),
  invalid_local_id: b('院内IDは空白を含まない半角英数字・記号 1〜64 文字です', 'A local ID is 1–64 printable ASCII characters without spaces'),
  invalid_program: b('事業を選んでください', 'Choose a programme'),
  invalid_disease_category: b('疾患区分を選んでください', 'Choose a disease category'),
  invalid_index_date: b('インデックス日は実在する日付で入力してください', 'The index date must be a real date'),
  not_a_hospital: b('医療機関の利用者だけが参加者を登録できます', 'Only hospital staff can register participants'),
  participant_not_found: b('参加者が見つかりません', 'No such participant'),
  specimen_not_found: b('検体が見つかりません', 'No such specimen'),
  invalid_transition: b('今の状態ではこの操作は行えません', 'This step is not possible in the current state'),
  invalid_to: b('次の状態を選んでください', 'Choose the next state'),
  invalid_destination: b('送付先は登録済みの解読施設から選んでください', 'Choose a registered sequencing facility as the destination'),
  unknown_organisation: b('登録されていない組織です', 'Unknown organisation'),
  not_specimen_holder: b('この検体を保管していません', 'You do not hold this specimen'),
  concurrent_change: b('他の人が同時に更新しました。再読み込みしてください', 'Someone else changed it at the same time; reload'),
  forbidden: b('この操作を行う権限がありません', 'You are not allowed to do this'),
  authentication_required: b('ログインし直してください', 'Please log in again'),
  session_expired: b('ログインの有効期限が切れました。ログインし直してください', 'Your session expired; please log in again'),
  csrf_token_missing: b('画面を再読み込みしてください', 'Reload the page'),
  csrf_token_invalid: b('画面を再読み込みしてください', 'Reload the page'),
  mandatory_item_denied: b('必須項目です。同意しない場合は参加できません', 'Mandatory item: without it the participant cannot join'),
  mandatory_item_changed: b('必須項目は変更できません', 'A mandatory item cannot be changed'),
  missing_decision: b('回答を選んでください', 'Choose an answer'),
  unknown_item: b('この版の説明文書にない項目です', 'Not an item of this ICF version'),
  invalid_decision: b('同意する・同意しない・未定 から選んでください', 'Choose permit, deny or undecided'),
  invalid_signer: b('署名者を選んでください', 'Choose who signed'),
  invalid_method: b('同意の方法を選んでください', 'Choose the method'),
  invalid_relationship: b('本人との関係を選んでください', 'Choose the relationship'),
  invalid_consent_transition: b('今の同意の状態ではこの記録はできません', 'This record is not possible in the current consent state'),
  icf_not_found: b('この版の説明文書は登録されていません', 'This ICF version is not registered'),
  icf_version_mismatch: b('変更は現在の説明文書の版で記録してください', 'A modification keeps the current ICF version'),
  invalid_version: b('新しい版の説明文書を選んでください', 'Choose a newer ICF version'),
  invalid_level: b('撤回の範囲を選んでください', 'Choose the withdrawal level'),
  invalid_kind: b('記録の種別が正しくありません', 'Invalid record kind'),
  concurrent_consent_change: b('他の人が同時に同意を更新しました。再読み込みしてください', 'Someone else changed the consent; reload'),
  invalid_json: b('送信内容を読み取れませんでした', 'The request could not be read'),
  route_not_found: b('この機能はまだこのサーバーにありません', 'This server does not offer this yet'),
  network_error: b('通信が途切れました。もう一度お試しください', 'The connection failed; try again'),
  http_error: b('サーバーがエラーを返しました', 'The server returned an error'),
  no_consent: b('同意が記録されていません', 'No consent is recorded'),
  participant_withdrawn: b('参加者は同意を撤回しています', 'The participant has withdrawn'),
  reason_required: b('理由を入力してください', 'A reason is required'),
  // The cohort variant store and Beacon (issue 15).
  gene_not_found: b('この遺伝子は遺伝子表にありません', 'This gene is not in the gene table'),
  region_too_large: b('領域が広すぎます（1 回に 10 Mb まで）', 'The region is too large (at most 10 Mb per query)'),
  invalid_parameter: b('{field}の値が正しくありません', '{field} is not a valid value'),
  already_ingested: b('このファイルはすでにコホートに取り込まれています', 'This file is already in the cohort'),
  not_a_variant_file: b('VCF または BCF ファイルを指定してください', 'Choose a VCF or BCF file'),
  sample_not_mapped: b('ファイルの検体に参加者が対応付けられていません', 'A sample of the file names no participant'),
  file_not_found: b('ファイルが見つかりません', 'No such file'),
  invalid_gene_table: b('遺伝子表の行が正しくありません', 'A row of the gene table is not valid'),
  // The portal's allele frequencies and each VCF's registered reference (issue 15).
  portal_region_too_large: b('領域が広すぎます（1 回に 1 Mb まで）', 'The region is too large (at most 1 Mb per query)'),
  reference_not_registered: b('ファイルが示す参照ゲノムは登録されていません', 'The reference genome the file names is not registered'),
  reference_contig_mismatch: b('ファイルの染色体（コンティグ）が参照ゲノムと一致しません', "The file's contigs do not match its reference genome"),
  duplicate_gene: b('遺伝子表に同じ遺伝子が 2 回あります', 'A gene is listed twice in the gene table'),
  empty_gene_table: b('遺伝子表に遺伝子がありません', 'The gene table holds no gene'),
  grant_required: b('複数の利用承認をお持ちです。この検索に使う承認を選んでください', 'You hold several grants; choose the one this query is for'),
  grant_not_usable: b('この利用承認は使えません（ご自身の有効な承認ではありません）', 'This grant cannot be used (it is not an active grant of yours)'),
  unreadable_reference: b('参照配列（インデックス付き FASTA）を読めません', 'The reference (indexed FASTA) cannot be read'),
  validation_failed: b('{field}: 入力内容に問題があります', '{field}: the input has problems'),
  unknown_system: b('データ辞書にないコード体系です', 'Not a code system of the data dictionary'),
  invalid_code: b('コードの形式が正しくありません（{field}）', 'A code has the wrong format ({field})'),
  empty_code_list: b('コードが1つもありません', 'The list holds no code'),
  upload_expired: b('アップロードの有効期限が切れました。新しくアップロードしてください', 'The upload expired; start a new upload'),
  // Analysis runs (issue 16).
  not_ordered_centre: b('この検体の解析を依頼された解析拠点ではありません', 'Your centre is not the one ordered to analyse this specimen'),
  no_qc_passed_fastq: b('品質基準に合格したペアエンドのFASTQがありません', 'The specimen has no paired FASTQ run that passed QC'),
  run_active: b('この検体の解析はまだ終わっていません', 'An analysis run of this specimen has not finished'),
  unknown_reference: b('登録されていない参照ゲノムです', 'No such reference genome'),
  unknown_pipeline: b('登録されていないパイプラインです', 'No such pipeline'),
  run_not_found: b('解析の実行が見つかりません', 'Analysis run not found'),
  provenance_not_found: b('解析が成功するまで来歴情報はありません', 'No provenance until the run succeeds'),
  engine_failed: b('ワークフローエンジンが失敗しました。ログを確認してください', 'The workflow engine failed; see the log'),
  interrupted: b('サーバーの停止で解析が中断されました', 'The server stopped while the run was running'),
  output_missing: b('解析の出力がありません', 'The run produced no output'),
  // Tumour/normal pair runs (issue 16).
  pair_same_specimen: b('{field}: 腫瘍と正常には別の検体を指定してください', '{field}: the tumour and the normal must be two different specimens'),
  pair_participant_mismatch: b('{field}: 腫瘍検体と同じ参加者の検体を指定してください', '{field}: choose a specimen of the same participant as the tumour'),
  pair_not_tumour_normal: b('{field}: 腫瘍には腫瘍検体、正常には正常検体を指定してください', '{field}: the tumour must be a tumour specimen and the normal a normal specimen'),
  specimen_not_ordered: b('{field}: この解析拠点にはこの検体の解析依頼がありません', '{field}: your centre has no analysis order for this specimen'),
  // Storage sites and migration (issue 17).
  unknown_site: b('設定にない保管サイトです', 'No storage site of that name is configured'),
  same_site: b('移行元と移行先が同じサイトです', 'The source and the target are the same site'),
  tier_mismatch: b('移行元と移行先のサイトの階層（ホット／コールド）が異なります', 'The source and the target site are of different tiers (hot / cold)'),
  jurisdiction_not_allowed: b('移行先のサイトは許可された国・地域の外にあります（R1.2）', 'The target site is outside the allowed jurisdictions (R1.2)'),
  invalid_blob_s3_sites: b('S3 保管サイトの設定（blob_s3_sites）に誤りがあります', 'The S3 storage site configuration (blob_s3_sites) is not valid'),
  // Console administration blocks: research group members, ICF versions.
  already_member: b('この利用者は既にこの研究班の班員です', 'This user is already a member of the group'),
  not_member: b('この利用者はこの研究班の班員ではありません', 'This user is not a member of the group'),
  icf_version_exists: b('この版は既に登録されています（版は置き換えられません）', 'This version is already registered (versions are never replaced)'),
  // Starting a migration from the console (issue 17).
  migration_running: b('別の移行が実行中です。終わってから開始してください', 'Another migration is running; start this one when it has finished'),
  invalid_limit: b('件数の上限は 0（すべて）以上の整数で入力してください', 'The limit must be a whole number, 0 (every object) or more'),
  invalid_grace_hours: b('猶予時間は 0〜87600 時間で入力してください', 'The grace period must be 0–87,600 hours'),
};

export function errorMessage(lang: Lang, code: string, field?: string): string {
  const f = fieldLabel(lang, field) || (lang === 'ja' ? '入力内容' : 'The input');
  const text = errorTexts[code] ?? (code.startsWith('invalid_') ? b('{field}の値が正しくありません', '{field} is not a valid value') : null);
  if (text) return text[lang].replaceAll('{field}', f);
  return lang === 'ja' ? `処理できませんでした（${field ? `${f}、` : ''}コード ${code}）` : `Could not be done (${field ? `${f}, ` : ''}code ${code})`;
}

// An error from api() in words; an unknown code is named but the server's English message is
// shown only in the English UI.
export function describeError(lang: Lang, e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 404 && e.code === 'http_error') return errorMessage(lang, 'route_not_found');
    return errorMessage(lang, e.code, e.field);
  }
  return lang === 'ja' ? '予期しないエラーが発生しました' : 'An unexpected error occurred';
}

// Policy decisions in the audit view (issue 14): the server records each reason as a stable
// code with its arguments (policy::ReasonCodes in src/policy); {name} marks an argument. One
// line per code: policy_test checks that every code of the policy has its ja and en text here.
export const policyReasons: Record<string, Bilingual> = {
  no_rule: { ja: '操作 {action} を許可する規則がありません', en: "no rule allows action '{action}'" },
  public_action: { ja: '公開された操作', en: 'public action' },
  authentication_required: { ja: '{kind} への {action} にはログインが必要です', en: "'{action}' on {kind} requires authentication" },
  scope_exceeded: { ja: 'トークンの権限範囲に {action} が含まれていません', en: "the token's scope does not include '{action}'" },
  mfa_required: { ja: '{action} には二要素認証が必要です（TOTP の登録と確認が先です）', en: "'{action}' requires a second factor; enrol and confirm TOTP first" },
  no_owner: { ja: '{kind} に所属機関がないため、機関内に限られた操作 {action} はできません', en: "{kind} names no owning organisation for the organisation-scoped action '{action}'" },
  other_organisation: { ja: '{kind} は他の機関のものです', en: '{kind} belongs to another organisation' },
  consent_withdrawn: { ja: '{kind} {id} の参加者は同意を撤回しています', en: 'the participant of {kind} {id} has withdrawn consent' },
  any_authenticated: { ja: 'ログインした利用者なら誰でも可能な操作', en: 'any authenticated subject' },
  role_allows: { ja: '役割「{role}」は {action} を行えます', en: 'role {role} may {action}' },
  no_role: { ja: '利用者のどの役割にも {action} は許可されていません', en: "none of the subject's roles may '{action}'" },
  not_released: { ja: '{kind} {id} はどのリリースにも含まれていません', en: '{kind} {id} is in no release' },
  consent_excludes_group: { ja: '参加者の同意は研究班 {group} による研究を含みません', en: "the participant's consent does not cover research by group {group}" },
  group_member: { ja: 'データセット {dataset} を作成した研究班 {group} の班員', en: 'member of research group {group} that produced dataset {dataset}' },
  group_restricted: { ja: 'リリース {release} は研究班 {group} に限定されています（公開猶予期間）', en: 'release {release} is group-restricted (embargo) to research group {group}' },
  unknown_tier: { ja: '不明な公開区分 {tier}', en: "unknown release tier '{tier}'" },
  no_grant: { ja: 'データセット {dataset} の利用許可がありません', en: 'no grant covers dataset {dataset}' },
  grant_other_holder: { ja: '利用許可 {grant} は別の利用者のものです', en: 'grant {grant} is held by someone else' },
  grant_revoked: { ja: '利用許可 {grant} は取り消されています', en: 'grant {grant} was revoked' },
  grant_not_started: { ja: '利用許可 {grant} の期間はまだ始まっていません', en: 'grant {grant} has not started' },
  grant_expired: { ja: '利用許可 {grant} の期間は終了しています', en: 'grant {grant} has expired' },
  grant_excludes_dataset: { ja: '利用許可 {grant} はデータセット {dataset} を含みません', en: 'grant {grant} does not cover dataset {dataset}' },
  grant_excludes_data_type: { ja: '利用許可 {grant} はデータ種別 {data_type} を含みません', en: 'grant {grant} does not cover data type {data_type}' },
  consent_excludes_purpose: { ja: '参加者の同意は利用許可 {grant} の目的 {purpose} を含みません', en: "the participant's consent does not cover the purpose {purpose} of grant {grant}" },
  grant_allows: { ja: '利用許可 {grant} がデータセット {dataset}（{data_type}）を含みます', en: 'grant {grant} covers dataset {dataset} ({data_type})' },
};

// Kinds of resource the policy's reasons name.
export const resourceKinds: Record<string, Bilingual> = {
  participant: b('参加者', 'participant'),
  specimen: b('検体', 'specimen'),
  finding: b('所見', 'finding'),
  file: b('ファイル', 'file'),
  data_file: b('データファイル', 'data file'),
  clinical: b('臨床情報', 'clinical data'),
  upload: b('アップロード', 'upload'),
  run: b('シーケンスラン', 'sequencing run'),
  analysis_run: b('解析ラン', 'analysis run'),
  analysis_order: b('解析依頼', 'analysis order'),
  user: b('利用者', 'user'),
  organisation: b('機関', 'organisation'),
  variant: b('バリアント', 'variant'),
  dataset: b('データセット', 'dataset'),
  audit: b('監査ログ', 'audit log'),
};

// Reasons of the audit log's plain events (state changes and records of the modules, not
// policy decisions), by their English text: {name} marks a part that varies; a part that is a
// code (a state, an event, a tier, a role) is shown by its label.
export const auditEventReasons: Record<string, Bilingual> = {
  submitted: b('確定', 'submitted'),
  registered: b('登録', 'registered'),
  'draft saved': b('下書きを保存', 'draft saved'),
  'chunk staged': b('分割データを一時保存', 'chunk staged'),
  stored: b('保存', 'stored'),
  created: b('作成', 'created'),
  filed: b('所見を登録', 'filed'),
  set: b('設定', 'set'),
  cleared: b('解除', 'cleared'),
  cancelled: b('取消', 'cancelled'),
  'ordered by program rule': b('事業の規則により解析を依頼', 'ordered by program rule'),
  'upload opened': b('アップロードを開始', 'upload opened'),
  'upload stored': b('アップロードを保存', 'upload stored'),
  'FASTQ registered': b('FASTQ を登録', 'FASTQ registered'),
  'sequencing run opened': b('シーケンスランを開始', 'sequencing run opened'),
  'QC passed': b('QC 合格', 'QC passed'),
  'QC failed': b('QC 不合格', 'QC failed'),
  'enrolment code issued': b('登録コードを発行', 'enrolment code issued'),
  'cram registered and sanitised': b('CRAM を登録（無害化済み）', 'cram registered and sanitised'),
  'vcf registered and sanitised': b('VCF を登録（無害化済み）', 'vcf registered and sanitised'),
  'file {file} added to the cohort': b('ファイル {file} をコホートに追加', 'file {file} added to the cohort'),
  'gene table replaced ({n} genes)': b('遺伝子表を置き換え（{n} 遺伝子）', 'gene table replaced ({n} genes)'),
  'application created': b('申請を作成', 'application created'),
  'application submitted': b('申請を提出', 'application submitted'),
  'committee comment': b('委員のコメント', 'committee comment'),
  'vote {vote}': b('投票: {vote}', 'vote {vote}'),
  'decision: approved {approve} to {reject} ({abstain} abstained)': b('決定: 承認（賛成 {approve}、反対 {reject}、棄権 {abstain}）', 'decision: approved {approve} to {reject} ({abstain} abstained)'),
  'decision: rejected: {approve} approve, {reject} reject ({abstain} abstained)': b('決定: 却下（賛成 {approve}、反対 {reject}、棄権 {abstain}）', 'decision: rejected: {approve} approve, {reject} reject ({abstain} abstained)'),
  "grant made by the committee's approval": b('委員会の承認により利用許可を発行', "grant made by the committee's approval"),
  'dataset created': b('データセットを作成', 'dataset created'),
  'files added': b('ファイルを追加', 'files added'),
  'release created': b('リリースを作成', 'release created'),
  'member added': b('班員を追加', 'member added'),
  'read receipt': b('既読', 'read receipt'),
  'findings settings changed': b('所見の設定を変更', 'findings settings changed'),
  'code list replaced': b('コードリストを置き換え', 'code list replaced'),
  'ICF version registered': b('同意説明文書の版を登録', 'ICF version registered'),
  'data directory created': b('データディレクトリを作成', 'data directory created'),
  '{type} message from {party}': b('{party} からのメッセージ（{type}）', '{type} message from {party}'),
  '{event}: {from} -> {to}': b('{event}: {from} → {to}', '{event}: {from} -> {to}'),
  '{event}: {from} → {to}': b('{event}: {from} → {to}', '{event}: {from} → {to}'),
  '{from} -> {to}': b('{from} → {to}', '{from} -> {to}'),
};

// Consent and release events the plain events name.
export const auditEvents: Record<string, Bilingual> = {
  initial: b('初回の同意', 'initial consent'),
  modification: b('同意の変更', 'modification'),
  'withdrawal:full': b('撤回（全面）', 'withdrawal (full)'),
  'withdrawal:no_new_data': b('撤回（新たなデータ提供の停止）', 'withdrawal (no new data)'),
  'withdrawal:no_contact': b('撤回（再連絡の停止）', 'withdrawal (no contact)'),
  embargo_passed: b('公開猶予期間の終了', 'embargo passed'),
  aggregates_due: b('集計値の公開時期', 'aggregates due'),
  none: b('なし', 'none'),
  approve: b('承認', 'approve'),
  reject: b('却下', 'reject'),
  abstain: b('棄権', 'abstain'),
};
