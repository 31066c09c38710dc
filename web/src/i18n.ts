// Every text of the interface in Japanese (the default) and English. The language is chosen in
// the header and kept in localStorage.
import { createContext, useContext } from 'react';

export type Lang = 'ja' | 'en';
export type Bilingual = { ja: string; en: string };

const texts = {
  appName: { ja: '全ゲノム解析データセンター', en: 'Whole Genome Data Center' },
  language: { ja: '表示言語', en: 'Language' },
  portal: { ja: '公開ポータル', en: 'Public portal' },
  console: { ja: 'スタッフ用コンソール', en: 'Staff console' },
  skipToContent: { ja: '本文へ移動', en: 'Skip to content' },
  loading: { ja: '読み込み中…', en: 'Loading…' },
  loadFailed: { ja: '読み込めませんでした', en: 'Could not load' },
  // Portal
  progressTitle: { ja: '事業の進捗', en: 'Programme progress' },
  progressIntro: {
    ja: '参加者数を段階ごとに集計しています。1〜9 の件数は「<10」、他のセルからの逆算を防ぐため伏せた件数は「x」と表示します。',
    en: 'Participants counted by stage. Counts from 1 to 9 are shown as "<10"; counts withheld so that a small count cannot be derived are shown as "x".',
  },
  lastUpdate: { ja: '集計日時', en: 'Last updated' },
  auditHead: { ja: '監査ログの最新ハッシュ', en: 'Audit chain head' },
  auditSeq: { ja: '通番', en: 'Sequence' },
  totals: { ja: '累計', en: 'Totals' },
  byMonth: { ja: '登録月別', en: 'By month of enrolment' },
  byProgram: { ja: '事業別', en: 'By programme' },
  byDisease: { ja: '疾患区分別', en: 'By disease category' },
  byFacility: { ja: '医療機関別', en: 'By facility' },
  showTable: { ja: '表で見る', en: 'Show table' },
  showChart: { ja: 'グラフで見る', en: 'Show chart' },
  downloadCsv: { ja: 'CSV をダウンロード', en: 'Download CSV' },
  chartOf: { ja: 'のグラフ', en: ' chart' },
  releases: { ja: 'データ公開カレンダー', en: 'Release calendar' },
  noReleases: { ja: '公開予定のデータはまだありません。', en: 'No releases yet.' },
  tier: { ja: '公開区分', en: 'Tier' },
  embargo: { ja: '公開制限解除日', en: 'Embargo until' },
  releaseDate: { ja: '公開日', en: 'Release date' },
  title: { ja: '名称', en: 'Title' },
  stage_enrolled: { ja: '登録', en: 'Enrolled' },
  stage_consented: { ja: '同意取得', en: 'Consented' },
  stage_specimens_received: { ja: '検体受領', en: 'Specimens received' },
  stage_sequenced: { ja: '解読済み', en: 'Sequenced' },
  stage_qc_passed: { ja: '品質基準合格', en: 'QC passed' },
  stage_analysed: { ja: '解析済み', en: 'Analysed' },
  stage_released: { ja: '公開済み', en: 'Released' },
  program_cancer: { ja: 'がん', en: 'Cancer' },
  program_rare_disease: { ja: '難病', en: 'Rare disease' },
  // Login
  login: { ja: 'ログイン', en: 'Log in' },
  logout: { ja: 'ログアウト', en: 'Log out' },
  username: { ja: 'ユーザーID', en: 'User ID' },
  password: { ja: 'パスワード', en: 'Password' },
  totpCode: { ja: '確認コード（6桁）', en: 'Verification code (6 digits)' },
  verify: { ja: '確認', en: 'Verify' },
  invalidCredentials: { ja: 'ユーザーIDまたはパスワードが違います', en: 'Wrong user ID or password' },
  invalidCode: { ja: 'コードが違うか、すでに使われています', en: 'The code is wrong or was already used' },
  enrolTitle: { ja: '二要素認証の登録', en: 'Set up two-factor authentication' },
  enrolHelp: {
    ja: '認証アプリで QR コードを読み取り、表示された 6 桁のコードを入力してください。',
    en: 'Scan the QR code with an authenticator app and enter the 6-digit code it shows.',
  },
  qrLabel: { ja: '認証アプリ登録用の QR コード', en: 'QR code for the authenticator app' },
  secretLabel: { ja: '手入力用のキー', en: 'Key for manual entry' },
  recoveryTitle: { ja: 'リカバリーコード（一度だけ表示）', en: 'Recovery codes (shown once)' },
  continue: { ja: '続ける', en: 'Continue' },
  signedInAs: { ja: 'ログイン中', en: 'Signed in as' },
  // Console navigation
  navParticipants: { ja: '臨床情報入力', en: 'Clinical data' },
  navConsent: { ja: '同意', en: 'Consent' },
  navSpecimens: { ja: '検体', en: 'Specimens' },
  navUploads: { ja: 'アップロード', en: 'Uploads' },
  navAudit: { ja: '監査ログ', en: 'Audit log' },
  navAdmin: { ja: '管理', en: 'Administration' },
  participants: { ja: '参加者', en: 'Participants' },
  participant: { ja: '参加者', en: 'Participant' },
  localId: { ja: '院内ID', en: 'Local ID' },
  program: { ja: '事業', en: 'Programme' },
  diseaseCategory: { ja: '疾患区分', en: 'Disease category' },
  indexDate: { ja: 'インデックス日', en: 'Index date' },
  select: { ja: '選択', en: 'Select' },
  filter: { ja: '絞り込み', en: 'Filter' },
  // Clinical entry
  category: { ja: 'カテゴリ', en: 'Category' },
  completeness: { ja: '入力済みの必須項目', en: 'Required fields filled' },
  of: { ja: ' / ', en: ' of ' },
  saveDraft: { ja: '下書き保存', en: 'Save draft' },
  submit: { ja: '確定して保存', en: 'Submit' },
  saved: { ja: '保存しました', en: 'Saved' },
  draftSaved: { ja: '下書きを保存しました', en: 'Draft saved' },
  status_draft: { ja: '下書き', en: 'Draft' },
  status_submitted: { ja: '確定', en: 'Submitted' },
  status_empty: { ja: '未入力', en: 'Not started' },
  notAnswered: { ja: '未選択', en: 'Not selected' },
  unknownChoice: { ja: '不明', en: 'Unknown' },
  definition: { ja: '定義', en: 'Definition' },
  problemsTitle: { ja: '入力内容を確認してください', en: 'Please check these entries' },
  required: { ja: '必須', en: 'required' },
  mustBeNumber: { ja: '数値を入力してください', en: 'Enter a number' },
  mustBeWhole: { ja: '整数を入力してください', en: 'Enter a whole number' },
  rangeMessage: { ja: '{min}〜{max}{unit} の範囲で入力してください', en: 'Must be between {min} and {max}{unit}' },
  tooLong: { ja: '{max} 文字以内で入力してください', en: 'At most {max} characters' },
  listNotEditable: {
    ja: '繰り返し項目は CSV 一括取込で入力します（件数: {n}）',
    en: 'Repeating items are entered by CSV import ({n} entries)',
  },
  version: { ja: '版', en: 'Version' },
  changeReason: { ja: '変更理由', en: 'Reason for the change' },
  changeReasonHelp: {
    ja: '確定済みの内容を変更するときは理由を記入してください',
    en: 'Required when a submitted record changes',
  },
  changedBy: { ja: '更新者', en: 'Changed by' },
  changedAt: { ja: '更新日時', en: 'Changed at' },
  // Consent
  consentState: { ja: '同意の状態', en: 'Consent state' },
  consentHistory: { ja: '同意の履歴', en: 'Consent history' },
  kind: { ja: '種別', en: 'Kind' },
  signedDate: { ja: '署名日', en: 'Signed date' },
  icfVersion: { ja: '説明文書の版', en: 'ICF version' },
  decisions: { ja: '同意項目', en: 'Items' },
  recordConsent: { ja: '同意を記録', en: 'Record consent' },
  withdraw: { ja: '同意撤回', en: 'Withdraw' },
  withdrawLevel: { ja: '撤回の範囲', en: 'Withdrawal level' },
  reason: { ja: '理由', en: 'Reason' },
  permit: { ja: '同意する', en: 'Permit' },
  deny: { ja: '同意しない', en: 'Deny' },
  undecided: { ja: '未定', en: 'Undecided' },
  kind_initial: { ja: '初回同意', en: 'Initial' },
  kind_modification: { ja: '同意内容の変更', en: 'Modification' },
  kind_reconsent: { ja: '再同意', en: 'Reconsent' },
  kind_withdrawal: { ja: '撤回', en: 'Withdrawal' },
  level_no_contact: { ja: '今後の連絡のみ拒否', en: 'No further contact' },
  level_no_new_data: { ja: '新たな収集を停止', en: 'No new data' },
  level_full: { ja: '全面撤回', en: 'Full withdrawal' },
  recorded: { ja: '記録しました', en: 'Recorded' },
  // Specimens
  specimens: { ja: '検体', en: 'Specimens' },
  specimenId: { ja: '検体ID', en: 'Specimen ID' },
  state: { ja: '状態', en: 'State' },
  holder: { ja: '保管者', en: 'Holder' },
  custodyHistory: { ja: '管理履歴', en: 'Chain of custody' },
  moveTo: { ja: '次の状態', en: 'Move to' },
  destination: { ja: '送付先', en: 'Destination' },
  note: { ja: 'メモ', en: 'Note' },
  record: { ja: '記録', en: 'Record' },
  noSpecimens: { ja: '検体はありません', en: 'No specimens' },
  // Uploads
  uploadsStub: {
    ja: 'シーケンスデータのアップロードは準備中です（issue 5）。登録済みの検体の一覧のみ表示します。',
    en: 'Sequencing uploads are not available yet (issue 5). Specimens held here are listed below.',
  },
  // Audit
  auditFilters: { ja: '検索条件', en: 'Filters' },
  actor: { ja: '操作者', en: 'Actor' },
  action: { ja: '操作', en: 'Action' },
  resource: { ja: '対象', en: 'Resource' },
  decision: { ja: '判定', en: 'Decision' },
  source: { ja: '接続元', en: 'Source' },
  time: { ja: '日時', en: 'Time' },
  search: { ja: '検索', en: 'Search' },
  more: { ja: 'さらに表示', en: 'Load more' },
  // Admin
  organisations: { ja: '組織', en: 'Organisations' },
  users: { ja: 'ユーザー', en: 'Users' },
  name: { ja: '名称', en: 'Name' },
  id: { ja: 'ID', en: 'ID' },
  roles: { ja: '役割', en: 'Roles' },
  organisation: { ja: '所属', en: 'Organisation' },
  email: { ja: 'メールアドレス', en: 'E-mail' },
  displayName: { ja: '表示名', en: 'Display name' },
  mfa: { ja: '二要素認証', en: 'Two-factor' },
  locked: { ja: 'ロック中', en: 'Locked' },
  disabled: { ja: '無効', en: 'Disabled' },
  yes: { ja: 'はい', en: 'Yes' },
  no: { ja: 'いいえ', en: 'No' },
  addUser: { ja: 'ユーザーを追加', en: 'Add user' },
  addOrg: { ja: '組織を追加', en: 'Add organisation' },
  jurisdiction: { ja: '所在国', en: 'Jurisdiction' },
  create: { ja: '作成', en: 'Create' },
  disable: { ja: '無効化', en: 'Disable' },
  unlock: { ja: 'ロック解除', en: 'Unlock' },
  resetMfa: { ja: '二要素認証をリセット', en: 'Reset two-factor' },
  importTitle: { ja: 'CSV 一括取込', en: 'CSV import' },
  importFile: { ja: '取り込む CSV ファイル', en: 'CSV file to import' },
  importStart: { ja: '取り込む', en: 'Import' },
  importDone: { ja: '取り込みました', en: 'Imported' },
  noAccess: { ja: 'この画面を使う権限がありません', en: 'You have no access to this page' },
  error: { ja: 'エラー', en: 'Error' },
} satisfies Record<string, Bilingual>;

export type TextKey = keyof typeof texts;

export function translate(lang: Lang, key: TextKey, vars: Record<string, string | number> = {}): string {
  let s = texts[key][lang];
  for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

export function loadLang(): Lang {
  try {
    return localStorage.getItem('zengen.lang') === 'en' ? 'en' : 'ja';
  } catch {
    return 'ja';
  }
}

export function saveLang(lang: Lang): void {
  try {
    localStorage.setItem('zengen.lang', lang);
  } catch {
    // Private browsing: the choice lasts for this page only.
  }
}

export interface I18n {
  lang: Lang;
  t: (key: TextKey, vars?: Record<string, string | number>) => string;
  pick: (b: Bilingual | undefined) => string;
}

export const I18nContext = createContext<I18n>({
  lang: 'ja',
  t: (key, vars) => translate('ja', key, vars),
  pick: (b) => (b ? b.ja : ''),
});

export function useI18n(): I18n {
  return useContext(I18nContext);
}

// Labels for codes that the server sends bare (disease categories).
const diseaseLabels: Record<string, Bilingual> = {
  lung: { ja: '肺がん', en: 'Lung cancer' },
  colorectal: { ja: '大腸がん', en: 'Colorectal cancer' },
  breast: { ja: '乳がん', en: 'Breast cancer' },
  gastric: { ja: '胃がん', en: 'Gastric cancer' },
  pancreatic: { ja: '膵がん', en: 'Pancreatic cancer' },
  sarcoma: { ja: '肉腫', en: 'Sarcoma' },
  rd_neuromuscular: { ja: '神経筋疾患', en: 'Neuromuscular disease' },
  rd_epilepsy: { ja: 'てんかん', en: 'Epilepsy' },
  rd_cardiomyopathy: { ja: '心筋症', en: 'Cardiomyopathy' },
  rd_skeletal_dysplasia: { ja: '骨系統疾患', en: 'Skeletal dysplasia' },
};

export function diseaseLabel(lang: Lang, code: string): string {
  return diseaseLabels[code]?.[lang] ?? code;
}
