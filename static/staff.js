/* papi — staff pages: landing, login and the dashboard (single page app).
 * Plain ES2017, no dependencies. Vietnamese first; English via #lang-toggle,
 * remembered in localStorage "papi.lang". Charts are inline SVG. */
(function () {
  'use strict';

  // ---------------------------------------------------------------- i18n
  var LANG_KEY = 'papi.lang';
  var store = {
    get: function (k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } },
    set: function (k, v) { try { window.localStorage.setItem(k, v); } catch (e) { /* private mode */ } }
  };
  var qlang = (new URLSearchParams(location.search).get('lang') || '').toLowerCase();
  var lang = qlang === 'en' || qlang === 'vi' ? qlang : (store.get(LANG_KEY) === 'en' ? 'en' : 'vi');

  var T = {
    vi: {
      // shared
      appSub: 'Theo dõi sự hài lòng của người dân',
      switchLang: 'Switch to English',
      staffLogin: 'Đăng nhập cán bộ',
      // landing
      idxTitle: 'papi — ý kiến người dân tại Trung tâm Phục vụ hành chính công',
      idxLead: 'papi thu thập ý kiến của người dân vừa sử dụng dịch vụ tại 168 Trung tâm Phục vụ hành chính công cấp xã của Thành phố Hồ Chí Minh, rồi tính các chỉ tiêu và điểm theo định nghĩa của Chỉ số PAPI để UBND cấp xã và Sở Nội vụ theo dõi, so sánh và khắc phục.',
      idxF1t: 'Người dân trả lời bằng mã QR',
      idxF1: 'Phiếu ẩn danh, 3–6 phút, trên điện thoại. Người dân không cần trang này: họ quét mã QR dán tại trung tâm.',
      idxF2t: 'Cấp xã xem kết quả của mình',
      idxF2: 'Điểm 8 chỉ số nội dung, các chỉ tiêu còn yếu, thay đổi so với kỳ trước, báo cáo in được.',
      idxF3t: 'Sở Nội vụ so sánh và giao việc',
      idxF3: 'Xếp hạng 168 xã, phường, đặc khu; bản đồ nhiệt; danh sách việc cần khắc phục theo cơ quan phụ trách.',
      idxNote: 'Lưu ý: đây là tín hiệu theo dõi từ người dân tự nguyện trả lời, xây dựng theo định nghĩa chỉ tiêu của PAPI; không phải điểm PAPI chính thức do UNDP và các đối tác công bố.',
      idxGo: 'Đăng nhập dành cho cán bộ',
      idxResident: 'Ông/Bà là người dân? Vui lòng quét mã QR tại trung tâm để góp ý.',
      footer: 'papi · phần mềm nguồn mở · dữ liệu ẩn danh, ẩn số liệu khi có ít hơn 30 người trả lời.',
      // login
      loginTitle: 'Đăng nhập cán bộ',
      loginIntro: 'Dành cho cán bộ UBND cấp xã, Sở Nội vụ và quản trị viên.',
      email: 'Thư điện tử',
      password: 'Mật khẩu',
      loginBtn: 'Đăng nhập',
      loggingIn: 'Đang đăng nhập…',
      loginNeedEmail: 'Vui lòng nhập thư điện tử.',
      loginNeedPassword: 'Vui lòng nhập mật khẩu.',
      loginFailed: 'Không đăng nhập được. Vui lòng thử lại.',
      netError: 'Không kết nối được máy chủ. Vui lòng kiểm tra mạng và thử lại.',
      backHome: '← Trang chủ',
      // staff chrome
      logout: 'Đăng xuất',
      navCommune: 'Kết quả xã/phường',
      navCentres: 'Điểm tiếp nhận & mã QR',
      navCity: 'So sánh toàn thành phố',
      navFollowup: 'Theo dõi khắc phục',
      role_commune: 'UBND cấp xã',
      role_department: 'Sở Nội vụ',
      role_admin: 'Quản trị',
      loading: 'Đang tải…',
      forbidden: 'Tài khoản của Ông/Bà không có quyền xem trang này.',
      notFound: 'Không tìm thấy trang.',
      errorGeneric: 'Đã có lỗi. Vui lòng thử lại.',
      retry: 'Thử lại',
      clearFilters: 'Xóa bộ lọc và xem lại',
      // period
      period: 'Kỳ báo cáo',
      pLast365: '12 tháng gần nhất',
      pMonth: 'Tháng này',
      pQuarter: 'Quý này',
      pYear: 'Năm nay',
      pCustom: 'Tùy chọn ngày',
      from: 'Từ ngày',
      to: 'Đến ngày',
      verifiedOnly: 'Chỉ phiếu đã xác thực (có mã biên nhận)',
      apply: 'Xem',
      periodLine: 'Kỳ {from} – {to}',
      // commune
      commune: 'Xã/phường',
      chooseCommune: 'Chọn xã/phường',
      type_phuong: 'Phường', type_xa: 'Xã', type_dac_khu: 'Đặc khu',
      code: 'Mã',
      responses: 'Số phiếu',
      verifiedLine: 'Đã xác thực: {n} ({p})',
      flaggedOut: 'Không tính {n} phiếu bị gắn cờ nghi bất thường',
      flaggedIn: 'Đã tính cả {n} phiếu bị gắn cờ',
      totalScore: 'Tổng điểm (thang 8–80)',
      notEnough: 'Chưa đủ dữ liệu để tính',
      notEnoughTotal: 'Cần đủ cả 8 chỉ số nội dung mới cộng tổng điểm.',
      ci95: 'KTC 95%: {a} – {b}',
      change: 'So với kỳ trước',
      prevLine: 'Kỳ trước {from} – {to}: {n} phiếu',
      significant: 'có ý nghĩa thống kê',
      notSignificant: 'không có ý nghĩa thống kê',
      noPrev: 'Kỳ trước chưa đủ dữ liệu để so sánh',
      indicatorsShown: 'Chỉ tiêu đủ dữ liệu',
      indicatorsShownLine: 'Chỉ tiêu có ít nhất {n} người trả lời; các chỉ tiêu còn lại bị ẩn',
      chartTitle: 'Điểm 8 chỉ số nội dung (thang 1–10)',
      chartDesc: 'Thanh: điểm của xã/phường; vạch ngang: khoảng tin cậy 95%; hình thoi: trung vị toàn quốc PAPI 2024.',
      legBar: 'Điểm kỳ này',
      legCI: 'Khoảng tin cậy 95%',
      legRef: 'Trung vị toàn quốc PAPI 2024 — khảo sát khác (mẫu hộ gia đình ngẫu nhiên), chỉ để tham chiếu',
      legSig: '✱ thay đổi có ý nghĩa thống kê so với kỳ trước',
      dimNotScored: 'chưa đủ dữ liệu',
      indTitle: 'Các chỉ tiêu — điểm thấp nhất trước',
      indHelp: 'Chỉ tiêu có điểm thấp là nơi cần ưu tiên cải thiện. Điểm quy về thang 1–10 của PAPI.',
      showSuppressed: 'Hiện cả chỉ tiêu chưa đủ dữ liệu',
      colOrder: 'TT',
      colId: 'Mã',
      colIndicator: 'Chỉ tiêu',
      colValue: 'Giá trị',
      colN: 'n',
      colCI: 'KTC 95%',
      colScore: 'Điểm 1–10',
      suppressedTip: 'Ẩn: có ít hơn {n} người trả lời chỉ tiêu này nên không hiển thị giá trị.',
      hiddenNTip: 'Không hiển thị số người trả lời khi dưới {n}.',
      suppressedLegend: '“—” nghĩa là số liệu bị ẩn vì có ít hơn {n} người trả lời (số người trả lời cũng được ẩn khi dưới {h}); không có nghĩa là điểm 0.',
      kind_ratio: 'tỷ lệ', kind_mean: 'trung bình', kind_median: 'trung vị',
      downloads: 'Tải về',
      dlCSV: 'Bảng kết quả (CSV)',
      dlXLSX: 'Bảng kết quả (Excel)',
      dlReport: 'Báo cáo in được',
      dlRaw: 'Phiếu thô (CSV)',
      newTab: '(mở thẻ mới)',
      openCentres: 'Điểm tiếp nhận & mã QR →',
      // city
      cityTitle: 'So sánh các xã, phường, đặc khu',
      formerProvince: 'Tỉnh/thành cũ',
      all: 'Tất cả',
      ctype: 'Loại đơn vị',
      rankBy: 'Xếp hạng theo',
      rankTotal: 'Tổng điểm (8–80)',
      rankDims: 'Chỉ số nội dung',
      indicatorsOf: 'Chỉ tiêu của {d}',
      cityResponses: 'Số phiếu toàn thành phố',
      cityTotal: 'Tổng điểm toàn thành phố',
      communesRanked: 'Đơn vị được xếp hạng',
      communesRankedLine: '{a} / {b} đơn vị đủ dữ liệu',
      refTitle: 'Tham chiếu PAPI 2024',
      refTag: 'Khảo sát khác',
      refNational: 'Trung vị toàn quốc',
      refRank15: 'Điểm hạng 15',
      refHCMC: 'TP.HCM (cũ)',
      refBD: 'Bình Dương',
      refBRVT: 'Bà Rịa - Vũng Tàu',
      refScale: 'Tổng điểm PAPI 2024, thang 8–80.',
      ranking: 'Xếp hạng',
      viewTable: 'Bảng',
      viewHeat: 'Bản đồ nhiệt',
      hideUnscored: 'Ẩn đơn vị chưa đủ dữ liệu',
      colRank: 'Hạng',
      colResponses: 'Số phiếu',
      colTotal: 'Tổng điểm',
      colBand: 'Nhóm',
      colVs: 'So với TB',
      colIndValue: 'Giá trị',
      vs_above: 'Cao hơn TB',
      vs_below: 'Thấp hơn TB',
      vs_not_different: 'Không khác biệt',
      bandLegendTitle: 'Nhóm (theo tứ phân vị của các đơn vị đủ dữ liệu):',
      bandNone: 'Chưa đủ dữ liệu',
      bandNeeds: 'Chỉ chia nhóm khi có ít nhất 8 đơn vị đủ dữ liệu.',
      heatHelp: 'Mỗi ô là điểm (1–10) của một chỉ số nội dung; màu và số nhỏ ở góc cho biết nhóm trong chỉ số nội dung đó. Chọn tên đơn vị để mở trang kết quả.',
      noRows: 'Không có đơn vị nào.',
      rows: '{n} đơn vị',
      // follow-up
      fuTitle: 'Theo dõi khắc phục',
      fuSub: 'Chỉ tiêu của từng xã/phường có điểm thấp hơn mục tiêu (trung bình thành phố), xếp theo cơ quan được giao trong Kế hoạch 105.',
      fuFilter: 'Tìm cơ quan',
      fuItems: '{n} mục',
      fuCommunes: '{n} xã/phường',
      fuNone: 'Không có chỉ tiêu nào thấp hơn mục tiêu trong kỳ này (hoặc chưa đủ dữ liệu).',
      fuTarget: 'Mục tiêu',
      fuGap: 'Thiếu hụt',
      fuScoreTarget: 'Điểm / mục tiêu',
      fuRole: 'Vai trò',
      fuTasks: 'Nhiệm vụ',
      fuShowTasks: 'Xem nhiệm vụ',
      role_implementing: 'Thực hiện',
      role_lead: 'Chủ trì',
      role_coordinating: 'Phối hợp',
      dlFollowup: 'Danh sách theo dõi (Excel)',
      fuAgencies: '{n} cơ quan',
      // centres
      centresTitle: 'Điểm tiếp nhận ý kiến & mã QR',
      centresNone: 'Chưa có điểm tiếp nhận nào.',
      addCentre: 'Thêm điểm tiếp nhận',
      centreName: 'Tên điểm tiếp nhận (ví dụ: Trung tâm Phục vụ hành chính công – cơ sở 2)',
      addBtn: 'Thêm',
      adding: 'Đang thêm…',
      added: 'Đã thêm điểm tiếp nhận “{name}”.',
      formURL: 'Đường dẫn phiếu khảo sát',
      copy: 'Sao chép',
      copied: 'Đã sao chép',
      poster: 'In áp phích',
      qrPNG: 'Tải mã QR (PNG)',
      qrAlt: 'Mã QR của {name}',
      issueReceipt: 'Cấp mã biên nhận',
      receiptHelp: 'Mã biên nhận dùng một lần cho người dân vừa hoàn thành thủ tục; phiếu gửi qua đường dẫn kèm mã được tính là phiếu đã xác thực.',
      receiptCode: 'Mã biên nhận',
      receiptURL: 'Đường dẫn kèm mã',
      open: 'Đang nhận ý kiến',
      closed: 'Đã đóng',
      backToResults: '← Kết quả của {name}',
      // trend
      trendTitle: 'Xu hướng 12 tháng',
      trendCityTitle: 'Xu hướng 12 tháng — toàn thành phố',
      trendShow: 'Hiển thị',
      trendTotal: 'Tổng điểm (8–80)',
      trendNotEnough: 'Chưa đủ dữ liệu theo tháng để vẽ xu hướng.',
      trendHelp: 'Mỗi điểm là một tháng; số dưới tên tháng là số phiếu của tháng. Tháng chưa đủ dữ liệu được để trống (không phải điểm 0).',
      trendHelpCI: 'Vạch dọc: khoảng tin cậy 95%.',
      trendScope: 'Xu hướng tính trên tất cả phiếu hợp lệ của từng tháng, không theo bộ lọc “chỉ phiếu đã xác thực”.',
      trendAria: '{what} theo tháng, {a} – {b}: {first}; {last}. {k} trên {n} tháng đủ dữ liệu.',
      trendAriaOne: '{what} theo tháng, {a} – {b}: chỉ {first} đủ dữ liệu.',
      trendAriaNone: '{what} theo tháng, {a} – {b}: chưa tháng nào đủ dữ liệu.',
      trendPointIs: '{m}: {v}',
      trendMonth: 'Tháng',
      trendTryDim: 'Chọn một chỉ số nội dung ở ô “Hiển thị” để xem xu hướng của từng chỉ số.',
      trendNA: 'chưa đủ dữ liệu',
      trendErr: 'Không tải được xu hướng theo tháng.',
      trendTableCap: '{what} theo tháng'
    },
    en: {
      appSub: 'Resident satisfaction monitoring',
      switchLang: 'Chuyển sang tiếng Việt',
      staffLogin: 'Staff login',
      idxTitle: 'papi — residents’ feedback at public-service centres',
      idxLead: 'papi collects feedback from residents who have just used a service at the 168 commune public-service centres of Ho Chi Minh City, and computes indicators and scores with the definitions of the PAPI index, so that commune People’s Committees and the Department of Home Affairs can monitor, compare and follow up.',
      idxF1t: 'Residents answer by QR code',
      idxF1: 'Anonymous, 3–6 minutes, on their phone. Residents do not need this page: they scan the QR code posted at the centre.',
      idxF2t: 'Communes see their own results',
      idxF2: 'Scores of the 8 dimensions, the weakest indicators, change since the previous period, a printable report.',
      idxF3t: 'The Department compares and follows up',
      idxF3: 'Ranking of the 168 communes, a heat map, and follow-up lists by responsible agency.',
      idxNote: 'Note: this is a monitoring signal from residents who chose to answer, built with PAPI’s indicator definitions; it is not the official PAPI score published by UNDP and its partners.',
      idxGo: 'Staff login',
      idxResident: 'Are you a resident? Please scan the QR code at the centre to give feedback.',
      footer: 'papi · open-source software · anonymous data; values are hidden when fewer than 30 people answered.',
      loginTitle: 'Staff login',
      loginIntro: 'For commune People’s Committee officers, the Department of Home Affairs and administrators.',
      email: 'Email',
      password: 'Password',
      loginBtn: 'Log in',
      loggingIn: 'Logging in…',
      loginNeedEmail: 'Please enter your email.',
      loginNeedPassword: 'Please enter your password.',
      loginFailed: 'Could not log in. Please try again.',
      netError: 'Cannot reach the server. Please check the network and try again.',
      backHome: '← Home',
      logout: 'Log out',
      navCommune: 'Commune results',
      navCentres: 'Centres & QR codes',
      navCity: 'City comparison',
      navFollowup: 'Follow-up',
      role_commune: 'Commune',
      role_department: 'Dept. of Home Affairs',
      role_admin: 'Admin',
      loading: 'Loading…',
      forbidden: 'Your account may not see this page.',
      notFound: 'Page not found.',
      errorGeneric: 'Something went wrong. Please try again.',
      retry: 'Retry',
      clearFilters: 'Clear the filters and try again',
      period: 'Period',
      pLast365: 'Last 12 months',
      pMonth: 'This month',
      pQuarter: 'This quarter',
      pYear: 'This year',
      pCustom: 'Custom dates',
      from: 'From',
      to: 'To',
      verifiedOnly: 'Verified answers only (with receipt)',
      apply: 'Show',
      periodLine: 'Period {from} – {to}',
      commune: 'Commune',
      chooseCommune: 'Choose a commune',
      type_phuong: 'Ward', type_xa: 'Commune', type_dac_khu: 'Special zone',
      code: 'Code',
      responses: 'Responses',
      verifiedLine: 'Verified: {n} ({p})',
      flaggedOut: '{n} flagged responses not counted',
      flaggedIn: 'Includes {n} flagged responses',
      totalScore: 'Total score (8–80)',
      notEnough: 'Not enough data to compute',
      notEnoughTotal: 'All 8 dimensions must be scored before they are added up.',
      ci95: '95% CI: {a} – {b}',
      change: 'Change since previous period',
      prevLine: 'Previous period {from} – {to}: {n} responses',
      significant: 'significant',
      notSignificant: 'not significant',
      noPrev: 'Not enough data in the previous period to compare',
      indicatorsShown: 'Indicators with enough data',
      indicatorsShownLine: 'Indicators with at least {n} respondents; the others are hidden',
      chartTitle: 'Scores of the 8 dimensions (1–10 scale)',
      chartDesc: 'Bar: the commune’s score; whisker: 95% confidence interval; diamond: PAPI 2024 national median.',
      legBar: 'Score this period',
      legCI: '95% confidence interval',
      legRef: 'PAPI 2024 national median — a different survey (random household sample), for reference only',
      legSig: '✱ significant change since the previous period',
      dimNotScored: 'not enough data',
      indTitle: 'Indicators — lowest score first',
      indHelp: 'Indicators with low scores are where improvement is most needed. Scores are on PAPI’s 1–10 scale.',
      showSuppressed: 'Also show indicators without enough data',
      colOrder: '#',
      colId: 'ID',
      colIndicator: 'Indicator',
      colValue: 'Value',
      colN: 'n',
      colCI: '95% CI',
      colScore: 'Score 1–10',
      suppressedTip: 'Hidden: fewer than {n} people answered this indicator, so no value is shown.',
      hiddenNTip: 'The number of respondents is not shown below {n}.',
      suppressedLegend: '“—” means the value is hidden because fewer than {n} people answered (the count is hidden too below {h}); it does not mean a score of 0.',
      kind_ratio: 'share', kind_mean: 'mean', kind_median: 'median',
      downloads: 'Downloads',
      dlCSV: 'Results table (CSV)',
      dlXLSX: 'Results table (Excel)',
      dlReport: 'Printable report',
      dlRaw: 'Raw responses (CSV)',
      newTab: '(opens a new tab)',
      openCentres: 'Centres & QR codes →',
      cityTitle: 'Comparison of communes, wards and special zones',
      formerProvince: 'Former province',
      all: 'All',
      ctype: 'Type',
      rankBy: 'Rank by',
      rankTotal: 'Total score (8–80)',
      rankDims: 'Dimensions',
      indicatorsOf: 'Indicators of {d}',
      cityResponses: 'Responses, whole city',
      cityTotal: 'Total score, whole city',
      communesRanked: 'Units ranked',
      communesRankedLine: '{a} of {b} units have enough data',
      refTitle: 'PAPI 2024 reference',
      refTag: 'Different survey',
      refNational: 'National median',
      refRank15: 'Score of rank 15',
      refHCMC: 'HCMC (former)',
      refBD: 'Bình Dương',
      refBRVT: 'Bà Rịa - Vũng Tàu',
      refScale: 'PAPI 2024 total score, 8–80 scale.',
      ranking: 'Ranking',
      viewTable: 'Table',
      viewHeat: 'Heat map',
      hideUnscored: 'Hide units without enough data',
      colRank: 'Rank',
      colResponses: 'Responses',
      colTotal: 'Total',
      colBand: 'Band',
      colVs: 'Vs average',
      colIndValue: 'Value',
      vs_above: 'Above average',
      vs_below: 'Below average',
      vs_not_different: 'Not different',
      bandLegendTitle: 'Bands (quartiles of the units with enough data):',
      bandNone: 'Not enough data',
      bandNeeds: 'Bands are drawn only when at least 8 units have enough data.',
      heatHelp: 'Each cell is a dimension score (1–10); its colour and the small number in the corner give the band within that dimension. Choose a unit’s name to open its results.',
      noRows: 'No units.',
      rows: '{n} units',
      fuTitle: 'Follow-up',
      fuSub: 'Indicators where a commune scores below the target (the city average), listed by the agency assigned in Plan 105.',
      fuFilter: 'Find an agency',
      fuItems: '{n} items',
      fuCommunes: '{n} communes',
      fuNone: 'No indicator is below target in this period (or there is not enough data).',
      fuTarget: 'Target',
      fuGap: 'Gap',
      fuScoreTarget: 'Score / target',
      fuRole: 'Role',
      fuTasks: 'Tasks',
      fuShowTasks: 'Show tasks',
      role_implementing: 'Implementing',
      role_lead: 'Lead',
      role_coordinating: 'Coordinating',
      dlFollowup: 'Follow-up list (Excel)',
      fuAgencies: '{n} agencies',
      centresTitle: 'Feedback points & QR codes',
      centresNone: 'No feedback point yet.',
      addCentre: 'Add a feedback point',
      centreName: 'Name of the feedback point (e.g. Public-service centre – site 2)',
      addBtn: 'Add',
      adding: 'Adding…',
      added: 'Added feedback point “{name}”.',
      formURL: 'Questionnaire link',
      copy: 'Copy',
      copied: 'Copied',
      poster: 'Print poster',
      qrPNG: 'Download QR code (PNG)',
      qrAlt: 'QR code of {name}',
      issueReceipt: 'Issue receipt code',
      receiptHelp: 'A one-time receipt code for a resident who has just finished a procedure; an answer sent through the link with the code counts as verified.',
      receiptCode: 'Receipt code',
      receiptURL: 'Link with the code',
      open: 'Taking answers',
      closed: 'Closed',
      backToResults: '← Results of {name}',
      trendTitle: '12-month trend',
      trendCityTitle: '12-month trend — whole city',
      trendShow: 'Show',
      trendTotal: 'Total score (8–80)',
      trendNotEnough: 'Not enough monthly data for a trend yet.',
      trendHelp: 'Each point is one month; the number under the month is that month’s responses. Months without enough data are left blank (not a score of 0).',
      trendHelpCI: 'Vertical line: 95% confidence interval.',
      trendScope: 'The trend counts all valid responses of each month; it does not follow the “verified answers only” filter.',
      trendAria: '{what} by month, {a} – {b}: {first}; {last}. {k} of {n} months have enough data.',
      trendAriaOne: '{what} by month, {a} – {b}: only {first} has enough data.',
      trendAriaNone: '{what} by month, {a} – {b}: no month has enough data yet.',
      trendPointIs: '{m}: {v}',
      trendMonth: 'Month',
      trendTryDim: 'Choose a dimension under “Show” to see its own trend.',
      trendNA: 'not enough data',
      trendErr: 'Could not load the monthly trend.',
      trendTableCap: '{what} by month'
    }
  };

  function fmt(s, o) { return o ? String(s).replace(/\{(\w+)\}/g, function (m, k) { return o[k] != null ? o[k] : m; }) : s; }
  function t(k, o) { return fmt(T[lang][k] != null ? T[lang][k] : (T.vi[k] != null ? T.vi[k] : k), o); }
  function $(id) { return document.getElementById(id); }
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function locale() { return lang === 'en' ? 'en-GB' : 'vi-VN'; }
  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function nf(v, d) {
    if (!isNum(v)) return '—';
    return v.toLocaleString(locale(), { minimumFractionDigits: d, maximumFractionDigits: d });
  }
  function int(v) { return isNum(v) ? v.toLocaleString(locale(), { maximumFractionDigits: 0 }) : '—'; }
  function pct(v, d) { return isNum(v) ? nf(v * 100, d == null ? 1 : d) + '%' : '—'; }
  function signed(v, d) { return isNum(v) ? (v > 0 ? '+' : v < 0 ? '−' : '±') + nf(Math.abs(v), d) : '—'; }
  function dmy(iso) {
    if (!iso) return '';
    var p = iso.split('-');
    return p.length === 3 ? p[2] + '/' + p[1] + '/' + p[0] : iso;
  }
  function valueText(kind, v) { return kind === 'ratio' ? pct(v, 1) : nf(v, 2); }
  function nameOf(o, field) {
    field = field || 'name';
    if (!o) return '';
    var v = o[field];
    if (v && typeof v === 'object') return (lang === 'en' && v.en) ? v.en : (v.vi || v.en || '');
    return (lang === 'en' && o[field + '_en']) ? o[field + '_en'] : (v || '');
  }

  function applyStatic() {
    document.documentElement.lang = lang;
    each(document.querySelectorAll('[data-i18n]'), function (el) { el.textContent = t(el.getAttribute('data-i18n')); });
    each(document.querySelectorAll('[data-i18n-attr]'), function (el) {
      el.getAttribute('data-i18n-attr').split(';').forEach(function (pair) {
        var kv = pair.split(':');
        if (kv.length === 2) el.setAttribute(kv[0].trim(), t(kv[1].trim()));
      });
    });
    var b = $('lang-toggle');
    if (b) {
      b.setAttribute('aria-label', t('switchLang'));
      b.setAttribute('lang', lang === 'vi' ? 'en' : 'vi');
      each(b.querySelectorAll('[data-l]'), function (s) { s.className = s.getAttribute('data-l') === lang ? 'on' : 'off'; });
    }
  }

  var onLang = null;
  function setupLang() {
    var b = $('lang-toggle');
    applyStatic();
    if (!b) return;
    b.hidden = false;
    b.addEventListener('click', function () {
      lang = lang === 'vi' ? 'en' : 'vi';
      store.set(LANG_KEY, lang);
      applyStatic();
      if (onLang) onLang();
    });
  }

  // ---------------------------------------------------------------- API
  function ApiError(status, body) {
    this.status = status;
    this.body = body || {};
  }
  function errText(e) {
    if (!e || !(e instanceof ApiError)) return t('netError');
    if (e.status === 403) return t('forbidden');
    var b = e.body || {};
    var pick = function (x) { return (lang === 'en' ? (x.message_en || x.message) : (x.message_vi || x.message)) || ''; };
    if (b.error) return pick(b.error) || t('errorGeneric');
    if (b.errors && b.errors.length) return b.errors.map(pick).join(' ');
    return t('errorGeneric');
  }
  function toLogin() {
    var next = location.pathname + location.search + location.hash;
    location.href = '/login?next=' + encodeURIComponent(next);
  }
  function api(path, opts) {
    opts = opts || {};
    var init = { method: opts.method || 'GET', credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (opts.body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    return fetch(path, init).then(function (res) {
      if (res.status === 401 && !opts.noRedirect) {
        toLogin();
        return new Promise(function () {}); // stay pending while we leave
      }
      if (res.status === 204) return null;
      return res.text().then(function (txt) {
        var body = null;
        try { body = txt ? JSON.parse(txt) : null; } catch (e) { body = null; }
        if (!res.ok) throw new ApiError(res.status, body);
        return body;
      });
    });
  }

  // ---------------------------------------------------------------- landing
  function initIndex() { setupLang(); }

  // ---------------------------------------------------------------- login
  function safeNext(n) {
    // Only a path on this origin. Browsers drop tabs and newlines inside
    // URLs ("/\t/host" becomes "//host"), so control characters, spaces and
    // backslashes are refused, and what is left must resolve to this origin.
    if (!n || n.charAt(0) !== '/' || /[\u0000-\u0020\u007f\\]/.test(n)) return '';
    var u;
    try { u = new URL(n, location.origin); } catch (e) { return ''; }
    if (u.origin !== location.origin) return '';
    return u.pathname + u.search + u.hash;
  }
  function initLogin() {
    setupLang();
    var form = $('login-form'), email = $('login-email'), pw = $('login-password'), btn = $('login-submit'), box = $('login-error');
    var last = null; // last error, redrawn on language change
    function fieldErr(input, msgKeyOrText) {
      var el = $(input.id + '-error');
      input.setAttribute('aria-invalid', msgKeyOrText ? 'true' : 'false');
      el.textContent = msgKeyOrText || '';
    }
    function show() {
      fieldErr(email, ''); fieldErr(pw, '');
      box.hidden = true; box.textContent = '';
      if (!last) return;
      if (last.fields) {
        Object.keys(last.fields).forEach(function (f) {
          var input = f === 'password' ? pw : email;
          fieldErr(input, last.fields[f]());
        });
      }
      if (last.general) { box.textContent = last.general(); box.hidden = false; }
    }
    onLang = show;
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      last = null;
      var fields = {};
      if (!email.value.trim()) fields.email = function () { return t('loginNeedEmail'); };
      if (!pw.value) fields.password = function () { return t('loginNeedPassword'); };
      if (Object.keys(fields).length) {
        last = { fields: fields };
        show();
        (fields.email ? email : pw).focus();
        return;
      }
      show();
      btn.disabled = true;
      btn.textContent = t('loggingIn');
      api('/api/v1/auth/login', { method: 'POST', body: { email: email.value.trim(), password: pw.value }, noRedirect: true })
        .then(function (res) {
          var next = safeNext(new URLSearchParams(location.search).get('next'));
          var u = res && res.user;
          if (!next) next = '/staff' + (u && u.role === 'commune' && u.commune_code ? '#/commune/' + u.commune_code : '#/city');
          location.assign(next);
        })
        .catch(function (e) {
          btn.disabled = false;
          btn.textContent = t('loginBtn');
          if (e instanceof ApiError && e.body && e.body.errors) {
            var f = {};
            e.body.errors.forEach(function (x) {
              f[x.field === 'password' ? 'password' : 'email'] = function () { return (lang === 'en' ? x.message_en : x.message_vi) || x.message; };
            });
            last = { fields: f };
          } else {
            last = { general: function () { return e instanceof ApiError ? errText(e) : t('netError'); } };
          }
          show();
          if (last.general) { pw.select(); box.focus(); } else { email.focus(); }
        });
    });
  }

  // ---------------------------------------------------------------- staff app
  var S = {
    me: null,
    communes: [],
    byCode: {},
    cat: null,          // catalogue
    indById: {},        // indicator id → catalogue indicator (with dimension id)
    redraw: null,       // redraws the current view from cached data (language switch)
    seq: 0              // route sequence, to drop stale responses
  };
  // PAPI 2024 national medians per dimension (also in /compare's
  // reference_papi_2024.dimension_median; the summary does not carry them).
  var PAPI2024_DIM_MEDIAN = [4.932, 5.332, 4.307, 7.010, 7.224, 7.513, 3.678, 3.408];
  var BANDS = ['best', 'high_average', 'low_average', 'poor'];
  var BAND_NAMES = {
    best: { vi: 'Nhóm đạt điểm cao nhất', en: 'Best performers' },
    high_average: { vi: 'Nhóm trung bình cao', en: 'High average' },
    low_average: { vi: 'Nhóm trung bình thấp', en: 'Low average' },
    poor: { vi: 'Nhóm đạt điểm thấp nhất', en: 'Poor performers' }
  };
  function bandName(id) { return id && BAND_NAMES[id] ? BAND_NAMES[id][lang] : t('bandNone'); }
  function bandNo(id) { return BANDS.indexOf(id) + 1; }
  function canCity() { return S.me && (S.me.role === 'department' || S.me.role === 'admin'); }

  function parseHash() {
    var h = location.hash.replace(/^#/, '');
    var qi = h.indexOf('?');
    var path = qi >= 0 ? h.slice(0, qi) : h;
    var qs = new URLSearchParams(qi >= 0 ? h.slice(qi + 1) : '');
    var q = {};
    qs.forEach(function (v, k) { q[k] = v; });
    return { parts: path.split('/').filter(Boolean), q: q };
  }
  function hashFor(path, q) {
    var qs = new URLSearchParams();
    Object.keys(q || {}).forEach(function (k) { if (q[k] !== '' && q[k] != null && q[k] !== false) qs.set(k, q[k]); });
    var s = qs.toString();
    return '#' + path + (s ? '?' + s : '');
  }
  // Period parameters shared by every view, from the hash query.
  function periodParams(q) {
    var o = {};
    if (q.from && q.to) { o.from = q.from; o.to = q.to; } else if (q.period) { o.period = q.period; }
    if (q.verified === '1') o.verified = '1';
    if (q.flagged === 'include') o.flagged = 'include';
    return o;
  }
  function qstr(o) {
    var qs = new URLSearchParams();
    Object.keys(o).forEach(function (k) { if (o[k] !== '' && o[k] != null) qs.set(k, o[k]); });
    var s = qs.toString();
    return s ? '?' + s : '';
  }

  function main() { return $('main'); }
  function showLoading() { main().innerHTML = '<p class="loading-line" role="status">' + esc(t('loading')) + '</p>'; main().setAttribute('aria-busy', 'true'); }
  function showError(e, retry) {
    main().removeAttribute('aria-busy');
    // Retrying cannot help a refusal or a missing commune.
    if (e instanceof ApiError && (e.status === 403 || e.status === 404 || e.status === 400)) retry = null;
    var cls = e instanceof ApiError && e.status === 403 ? 'msg-warn' : 'msg-error';
    main().innerHTML = '<div class="msg ' + cls + '" role="alert"><p>' + esc(errText(e)) + '</p>' +
      (retry ? '<p><button type="button" class="btn btn-small" id="retry-btn">' + esc(t('retry')) + '</button></p>' : '') +
      (e instanceof ApiError && e.status === 400 ? '<p><a id="clear-filters" href="#/' + esc(parseHash().parts.join('/')) + '">' + esc(t('clearFilters')) + '</a></p>' : '') + '</div>';
    if (retry) $('retry-btn').addEventListener('click', retry);
    S.redraw = function () { showError(e, retry); };
  }
  function setTitle(s) { document.title = s + ' · papi'; }

  function initStaff() {
    setupLang();
    onLang = function () { drawChrome(); if (S.redraw) S.redraw(); };
    $('logout-btn').addEventListener('click', function () {
      api('/api/v1/auth/logout', { method: 'POST', noRedirect: true }).then(done, done);
      function done() { location.href = '/login'; }
    });
    showLoading();
    Promise.all([
      api('/api/v1/me'),
      api('/api/v1/communes'),
      api('/api/v1/catalogue')
    ]).then(function (r) {
      S.me = r[0];
      S.communes = r[1] || [];
      S.communes.forEach(function (c) { S.byCode[c.code] = c; });
      S.cat = r[2];
      (S.cat.dimensions || []).forEach(function (d) {
        d.subdimensions.forEach(function (sd) {
          sd.indicators.forEach(function (ind) { ind.dim = d.id; S.indById[ind.id] = ind; });
        });
      });
      drawChrome();
      window.addEventListener('hashchange', route);
      var rt = null;
      window.addEventListener('resize', function () { clearTimeout(rt); rt = setTimeout(function () { if (S.resize) S.resize(); }, 150); });
      route();
    }).catch(function (e) { showError(e, function () { location.reload(); }); });
  }

  function drawChrome() {
    var u = S.me;
    if (!u) return;
    $('user-email').textContent = u.email;
    $('user-role').textContent = t('role_' + u.role);
    var links = [];
    var cur = parseHash().parts[0] || '';
    if (canCity()) {
      links.push(['city', '#/city', t('navCity')]);
      links.push(['followup', '#/followup', t('navFollowup')]);
      var last = S.lastCommune || '';
      if (last) {
        links.push(['commune', '#/commune/' + last, t('navCommune')]);
        links.push(['centres', '#/centres/' + last, t('navCentres')]);
      }
    } else if (u.commune_code) {
      links.push(['commune', '#/commune/' + u.commune_code, t('navCommune')]);
      links.push(['centres', '#/centres/' + u.commune_code, t('navCentres')]);
    }
    $('nav-list').innerHTML = links.map(function (l) {
      return '<li><a id="nav-' + l[0] + '" href="' + esc(l[1]) + '"' + (cur === l[0] ? ' aria-current="page"' : '') + '>' + esc(l[2]) + '</a></li>';
    }).join('');
  }

  function route() {
    var r = parseHash();
    var p = r.parts;
    S.seq++;
    S.redraw = null;
    S.resize = null;
    if (!p.length) {
      location.replace(canCity() ? '#/city' : (S.me.commune_code ? '#/commune/' + S.me.commune_code : '#/city'));
      return;
    }
    if ((p[0] === 'commune' || p[0] === 'centres') && p[1]) S.lastCommune = p[1];
    drawChrome();
    window.scrollTo(0, 0);
    switch (p[0]) {
      case 'commune': return p[1] ? viewCommune(p[1], r.q) : notFound();
      case 'centres': return p[1] ? viewCentres(p[1]) : notFound();
      case 'city': return canCity() ? viewCity(r.q) : forbidden();
      case 'followup': return canCity() ? viewFollowup(r.q) : forbidden();
    }
    notFound();
  }
  function notFound() {
    main().innerHTML = '<div class="msg msg-warn" role="alert"><p>' + esc(t('notFound')) + '</p></div>';
    S.redraw = notFound;
  }
  function forbidden() {
    setTitle(t('forbidden'));
    main().innerHTML = '<div class="msg msg-warn" role="alert"><p>' + esc(t('forbidden')) + '</p></div>';
    S.redraw = forbidden;
  }
  // Runs fn only if no other route started since `seq` was taken.
  function guard(fn) { var seq = S.seq; return function (x) { if (seq === S.seq) return fn(x); }; }

  // ---------------------------------------------------------------- shared widgets
  function periodForm(q, period, extra) {
    var preset = (q.from && q.to) ? 'custom' : (q.period || '');
    var opts = [['', 'pLast365'], ['month', 'pMonth'], ['quarter', 'pQuarter'], ['year', 'pYear'], ['custom', 'pCustom']];
    return '<form class="card filters" id="filters" novalidate>' +
      '<div class="f"><label for="period-preset">' + esc(t('period')) + '</label><select id="period-preset">' +
      opts.map(function (o) { return '<option value="' + o[0] + '"' + (o[0] === preset ? ' selected' : '') + '>' + esc(t(o[1])) + '</option>'; }).join('') +
      '</select></div>' +
      '<div class="f"><label for="period-from">' + esc(t('from')) + '</label><input type="date" id="period-from" value="' + esc(period ? period.from : (q.from || '')) + '"></div>' +
      '<div class="f"><label for="period-to">' + esc(t('to')) + '</label><input type="date" id="period-to" value="' + esc(period ? period.to : (q.to || '')) + '"></div>' +
      (extra || '') +
      '<label class="check"><input type="checkbox" id="verified-only"' + (q.verified === '1' ? ' checked' : '') + '> ' + esc(t('verifiedOnly')) + '</label>' +
      '<button type="submit" class="btn btn-primary" id="apply-filters">' + esc(t('apply')) + '</button>' +
      '</form>';
  }
  // Wires the period form: on submit, navigate to path with the new query.
  function bindPeriodForm(path, q, readExtra) {
    var form = $('filters');
    var preset = $('period-preset');
    function mark() { preset.value = 'custom'; }
    $('period-from').addEventListener('input', mark);
    $('period-to').addEventListener('input', mark);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var nq = {};
      if (preset.value === 'custom') {
        var f = $('period-from').value, to = $('period-to').value;
        if (f && to) { if (f > to) { var x = f; f = to; to = x; } nq.from = f; nq.to = to; }
      } else if (preset.value) {
        nq.period = preset.value;
      }
      if ($('verified-only').checked) nq.verified = '1';
      if (q.flagged === 'include') nq.flagged = 'include';
      if (readExtra) readExtra(nq);
      var h = hashFor(path, nq);
      if (h === location.hash) route(); else location.hash = h;
    });
    // Keep the user's place after a language switch.
    return form;
  }

  // Sortable table. cols: {key, label, title?, cls?, sort?(row)→value, cell(row)→html, th?}
  function SortTable(id, cols, rows, opt) {
    this.id = id; this.cols = cols; this.rows = rows; this.opt = opt || {};
    this.key = this.opt.key || null; this.dir = this.opt.dir || 'ascending';
  }
  SortTable.prototype.sorted = function () {
    var self = this;
    if (!this.key) return this.rows.slice();
    var col = this.cols.filter(function (c) { return c.key === self.key; })[0];
    if (!col || !col.sort) return this.rows.slice();
    var dir = this.dir === 'ascending' ? 1 : -1;
    var withIdx = this.rows.map(function (r, i) { return { r: r, i: i, v: col.sort(r) }; });
    withIdx.sort(function (a, b) {
      var av = a.v, bv = b.v;
      var an = av == null || av === '', bn = bv == null || bv === '';
      if (an && bn) return a.i - b.i;
      if (an) return 1; // missing values always last
      if (bn) return -1;
      var c = typeof av === 'string' ? av.localeCompare(bv, locale()) : av - bv;
      return c !== 0 ? c * dir : a.i - b.i;
    });
    return withIdx.map(function (x) { return x.r; });
  };
  SortTable.prototype.html = function () {
    var self = this;
    var head = '<tr>' + this.cols.map(function (c) {
      var cls = c.cls ? ' class="' + c.cls + '"' : '';
      var title = c.title ? ' title="' + esc(c.title) + '"' : '';
      if (!c.sort) return '<th scope="col"' + cls + title + '>' + (c.th || esc(c.label)) + '</th>';
      var s = self.key === c.key ? self.dir : 'none';
      return '<th scope="col"' + cls + title + ' aria-sort="' + s + '"><button type="button" class="sort-btn" data-sort="' + esc(c.key) + '">' +
        (c.th || esc(c.label)) + '<span class="arrow" aria-hidden="true"></span></button></th>';
    }).join('') + '</tr>';
    var rows = this.sorted();
    var body = rows.length ? rows.map(function (r) {
      return '<tr' + (self.opt.rowAttrs ? self.opt.rowAttrs(r) : '') + '>' + self.cols.map(function (c) {
        var v = c.cell(r);
        if (c.rowHeader) return '<th scope="row"' + (c.cls ? ' class="' + c.cls + '"' : '') + '>' + v + '</th>';
        return '<td' + (c.cls ? ' class="' + c.cls + '"' : '') + '>' + v + '</td>';
      }).join('') + '</tr>';
    }).join('') : '<tr><td colspan="' + this.cols.length + '" class="empty">' + esc(t('noRows')) + '</td></tr>';
    return '<table class="data" id="' + this.id + '">' + (this.opt.caption ? '<caption class="visually-hidden">' + esc(this.opt.caption) + '</caption>' : '') +
      '<thead>' + head + '</thead><tbody>' + body + '</tbody></table>';
  };
  // Mounts into container and handles header clicks; onSort after each sort.
  SortTable.prototype.mount = function (container, onSort) {
    var self = this;
    container.innerHTML = this.html();
    container.onclick = function (ev) {
      var b = ev.target.closest ? ev.target.closest('.sort-btn') : null;
      if (!b || !container.contains(b)) return;
      var k = b.getAttribute('data-sort');
      var col = self.cols.filter(function (c) { return c.key === k; })[0];
      if (self.key === k) self.dir = self.dir === 'ascending' ? 'descending' : 'ascending';
      else { self.key = k; self.dir = (col && col.firstDir) || 'ascending'; }
      container.innerHTML = self.html();
      var nb = container.querySelector('.sort-btn[data-sort="' + k + '"]');
      if (nb) nb.focus();
      if (onSort) onSort(self);
    };
  };

  function dash(tip) {
    return '<span class="dash" title="' + esc(tip) + '" aria-hidden="true">—</span><span class="visually-hidden">' + esc(tip) + '</span>';
  }
  function communeLabel(c) {
    if (!c) return '';
    return c.name;
  }
  function communeMeta(c) {
    return [t('type_' + c.type), c.former_province, t('code') + ' ' + c.code].join(' · ');
  }

  // ---------------------------------------------------------------- commune view
  function viewCommune(code, q) {
    var c = S.byCode[code];
    setTitle(c ? c.name : code);
    showLoading();
    var params = periodParams(q);
    var path = '/api/v1/communes/' + encodeURIComponent(code) + '/summary';
    api(path + qstr(params)).then(guard(function (sum) {
      var st = { showSuppressed: true, table: null, trendDim: '' };
      S.redraw = function () { drawCommune(code, q, params, sum, st); };
      S.redraw();
      // The trend ends with the month of the chosen period's last day.
      loadTrend(st, { months: 12, commune: (sum.commune && sum.commune.code) || code, to: sum.period && sum.period.to });
    })).catch(guard(function (e) { showError(e, function () { viewCommune(code, q); }); }));
  }

  function flatIndicators(sum) {
    var out = [];
    (sum.dimensions || []).forEach(function (d) {
      (d.subdimensions || []).forEach(function (sd) {
        (sd.indicators || []).forEach(function (ind) { out.push({ ind: ind, dim: d, sub: sd }); });
      });
    });
    return out;
  }

  function drawCommune(code, q, params, sum, st) {
    var c = sum.commune || S.byCode[code] || { code: code, name: code };
    setTitle(c.name);
    main().removeAttribute('aria-busy');
    var policy = sum.policy ? { MinN: sum.policy.min_n, HideBelow: sum.policy.hide_below } : { MinN: 30, HideBelow: 5 };
    var ch = {};
    ((sum.previous && sum.previous.changes) || []).forEach(function (x) { ch[x.id] = x; });
    var inds = flatIndicators(sum);
    var shown = inds.filter(function (x) { return !x.ind.suppressed && isNum(x.ind.score); }).length;

    var select = '';
    if (canCity()) {
      var groups = {};
      S.communes.forEach(function (cm) { (groups[cm.former_province] = groups[cm.former_province] || []).push(cm); });
      select = '<div class="f"><label for="commune-select" class="lbl">' + esc(t('chooseCommune')) + '</label><select id="commune-select">' +
        Object.keys(groups).map(function (g) {
          return '<optgroup label="' + esc(g) + '">' + groups[g].slice().sort(function (a, b) { return a.name.localeCompare(b.name, 'vi'); }).map(function (cm) {
            return '<option value="' + esc(cm.code) + '"' + (cm.code === c.code ? ' selected' : '') + '>' + esc(cm.name) + '</option>';
          }).join('') + '</optgroup>';
        }).join('') + '</select></div>';
    }

    // Headline
    var tot = sum.total_score;
    var chT = ch.total;
    var changeHTML;
    if (chT && isNum(chT.change)) {
      var dir = chT.change > 0 ? 'up' : chT.change < 0 ? 'down' : '';
      var arrow = chT.change > 0 ? '▲ ' : chT.change < 0 ? '▼ ' : '';
      changeHTML = '<p class="v" id="total-change"><span class="chg ' + dir + '">' + arrow + esc(signed(chT.change, 2)) + '</span>' +
        (chT.significant ? '<span class="sig" id="total-change-significant">✱ ' + esc(t('significant')) + '</span>' : '') + '</p>' +
        (chT.significant ? '' : '<p class="d">' + esc(t('notSignificant')) + '</p>');
    } else {
      changeHTML = '<p class="v na" id="total-change">' + esc(t('noPrev')) + '</p>';
    }
    var prev = sum.previous || {};
    var kpis = '<div class="kpis">' +
      '<div class="kpi"><p class="k">' + esc(t('responses')) + '</p><p class="v" id="responses">' + esc(int(sum.responses)) + '</p>' +
      '<p class="d" id="verified-share">' + esc(t('verifiedLine', { n: int(sum.verified_responses), p: pct(sum.verified_share, 0) })) + '</p>' +
      (sum.flagged_responses > 0 ? '<p class="d" id="flagged-line">' + esc(t(sum.include_flagged ? 'flaggedIn' : 'flaggedOut', { n: int(sum.flagged_responses) })) + '</p>' : '') + '</div>' +
      '<div class="kpi"><p class="k">' + esc(t('totalScore')) + '</p>' +
      (isNum(tot)
        ? '<p class="v" id="total-score">' + esc(nf(tot, 2)) + '</p><p class="d">' + esc(t('ci95', { a: nf(sum.total_ci_low, 2), b: nf(sum.total_ci_high, 2) })) + '</p>'
        : '<p class="v na" id="total-score">' + esc(t('notEnough')) + '</p><p class="d">' + esc(t('notEnoughTotal')) + '</p>') +
      '</div>' +
      '<div class="kpi"><p class="k">' + esc(t('change')) + '</p>' + changeHTML +
      (prev.period ? '<p class="d">' + esc(t('prevLine', { from: dmy(prev.period.from), to: dmy(prev.period.to), n: int(prev.responses) })) + '</p>' : '') + '</div>' +
      '<div class="kpi"><p class="k">' + esc(t('indicatorsShown')) + '</p><p class="v" id="indicators-shown">' + shown + ' / ' + inds.length + '</p>' +
      '<p class="d">' + esc(t('indicatorsShownLine', { a: shown, b: inds.length, n: policy.MinN })) + '</p></div>' +
      '</div>';

    var note = sum.note ? '<div class="note" id="note"><p>' + esc(lang === 'en' ? sum.note.en : sum.note.vi) + '</p></div>' : '';

    var base = '/api/v1/communes/' + encodeURIComponent(c.code);
    var dl = '<section class="card" aria-labelledby="dl-title"><h2 id="dl-title">' + esc(t('downloads')) + '</h2><div class="downloads">' +
      '<a class="btn" id="dl-csv" href="' + esc(base + '/summary' + qstr(Object.assign({ format: 'csv' }, params))) + '" download>' + esc(t('dlCSV')) + '</a>' +
      '<a class="btn" id="dl-xlsx" href="' + esc(base + '/summary' + qstr(Object.assign({ format: 'xlsx' }, params))) + '" download>' + esc(t('dlXLSX')) + '</a>' +
      '<a class="btn" id="dl-report" href="' + esc(base + '/summary' + qstr(Object.assign({ format: 'html' }, params))) + '" target="_blank" rel="noopener">' + esc(t('dlReport')) + ' <span class="visually-hidden">' + esc(t('newTab')) + '</span></a>' +
      '<a class="btn" id="dl-raw" href="' + esc(base + '/responses.csv' + qstr({ from: sum.period.from, to: sum.period.to })) + '" download>' + esc(t('dlRaw')) + '</a>' +
      '</div></section>';

    main().innerHTML =
      '<div class="page-head"><div class="grow"><h1 id="commune-title">' + esc(c.name) + '</h1>' +
      '<p class="sub">' + esc(communeMeta(c)) + ' · <span id="period-line">' + esc(t('periodLine', { from: dmy(sum.period.from), to: dmy(sum.period.to) })) + '</span></p></div>' +
      (select ? '<div class="filters">' + select + '</div>' : '') +
      '<a class="btn btn-small btn-ghost" id="open-centres" href="#/centres/' + esc(c.code) + '">' + esc(t('openCentres')) + '</a></div>' +
      periodForm(q, sum.period, '') +
      note + kpis +
      '<section class="card chart" aria-labelledby="chart-title"><div class="card-head"><h2 id="chart-title">' + esc(t('chartTitle')) + '</h2></div>' +
      '<div id="chart-box">' + dimensionChart(sum, ch, chartWidth()) + '</div>' +
      '<ul class="legend"><li><span class="sw sw-bar"></span>' + esc(t('legBar')) + '</li><li><span class="sw sw-ci"></span>' + esc(t('legCI')) + '</li>' +
      '<li><span class="sw sw-ref"></span>' + esc(t('legRef')) + '</li><li>' + esc(t('legSig')) + '</li></ul></section>' +
      trendSection('trend', 'trendTitle', st, q) +
      '<section class="card" aria-labelledby="ind-title"><div class="card-head"><h2 id="ind-title">' + esc(t('indTitle')) + '</h2>' +
      '<label class="check"><input type="checkbox" id="show-suppressed"' + (st.showSuppressed ? ' checked' : '') + '> ' + esc(t('showSuppressed')) + '</label></div>' +
      '<p class="small">' + esc(t('indHelp')) + '</p>' +
      '<p class="small" id="suppressed-legend">' + esc(t('suppressedLegend', { n: policy.MinN, h: policy.HideBelow })) + '</p>' +
      '<div class="table-wrap" id="ind-table-wrap"></div></section>' +
      dl;

    bindPeriodForm('/commune/' + c.code, q);
    S.resize = function () { var b = $('chart-box'); if (b) b.innerHTML = dimensionChart(sum, ch, chartWidth()); drawTrend(st); };
    bindTrend(st);
    var sel = $('commune-select');
    if (sel) sel.addEventListener('change', function () {
      // Keep the period, change the commune.
      location.hash = hashFor('/commune/' + sel.value, q);
    });
    $('show-suppressed').addEventListener('change', function (ev) { st.showSuppressed = ev.target.checked; drawIndicatorTable(inds, policy, st); });
    drawIndicatorTable(inds, policy, st);
  }

  function drawIndicatorTable(inds, policy, st) {
    var rows = st.showSuppressed ? inds : inds.filter(function (x) { return isNum(x.ind.score); });
    // Default order: by gap, lowest PAPI-scale score first; unscored last by id.
    var order = inds.filter(function (x) { return isNum(x.ind.score); }).sort(function (a, b) { return a.ind.score - b.ind.score; });
    var rankOf = {};
    order.forEach(function (x, i) { rankOf[x.ind.id] = i + 1; });
    var supTip = t('suppressedTip', { n: policy.MinN });
    var cols = [
      { key: 'gap', label: t('colOrder'), cls: 'num', sort: function (r) { return rankOf[r.ind.id]; }, cell: function (r) { return rankOf[r.ind.id] ? String(rankOf[r.ind.id]) : ''; } },
      { key: 'id', label: t('colId'), sort: function (r) { return idKey(r.ind.id); }, cell: function (r) { return esc(r.ind.id); } },
      { key: 'name', label: t('colIndicator'), rowHeader: true, sort: function (r) { return nameOf(r.ind); },
        cell: function (r) { return '<span class="ind-name">' + esc(nameOf(r.ind)) + '</span><span class="ind-sub">' + esc(r.dim.id + ' · ' + nameOf(r.dim)) + ' · ' + esc(t('kind_' + r.ind.kind)) + '</span>'; } },
      { key: 'value', label: t('colValue'), cls: 'num', sort: function (r) { return r.ind.value; },
        cell: function (r) { return isNum(r.ind.value) ? esc(valueText(r.ind.kind, r.ind.value)) + (r.ind.estimate === 'borrowed' ? ' <abbr title="' + esc(lang === 'en' ? 'borrowed small-area estimate' : 'ước lượng vay mượn (dưới ngưỡng)') + '">' + esc(lang === 'en' ? '(est.)' : '(ƯL)') + '</abbr>' : '') : dash(supTip); } },
      { key: 'n', label: t('colN'), cls: 'num', sort: function (r) { return r.ind.n; },
        cell: function (r) { return isNum(r.ind.n) ? esc(int(r.ind.n)) : dash(t('hiddenNTip', { n: policy.HideBelow })); } },
      { key: 'ci', label: t('colCI'), cls: 'num',
        cell: function (r) { return isNum(r.ind.ci_low) && isNum(r.ind.ci_high) ? esc(valueText(r.ind.kind, r.ind.ci_low) + ' – ' + valueText(r.ind.kind, r.ind.ci_high)) : dash(supTip); } },
      { key: 'score', label: t('colScore'), cls: 'num', sort: function (r) { return r.ind.score; },
        cell: function (r) {
          if (!isNum(r.ind.score)) return dash(supTip);
          var w = Math.max(0, Math.min(100, (r.ind.score - 1) / 9 * 100));
          return '<span class="mini-bar" aria-hidden="true"><span style="width:' + w.toFixed(1) + '%"></span></span><strong>' + esc(nf(r.ind.score, 2)) + '</strong>';
        } }
    ];
    if (!st.table) st.table = { key: 'gap', dir: 'ascending' };
    var tbl = new SortTable('indicator-table', cols, rows, {
      key: st.table.key, dir: st.table.dir, caption: t('indTitle'),
      rowAttrs: function (r) { return ' data-indicator="' + esc(r.ind.id) + '"' + (isNum(r.ind.score) ? '' : ' class="muted"'); }
    });
    tbl.mount($('ind-table-wrap'), function (x) { st.table = { key: x.key, dir: x.dir }; });
  }
  // "D1.2.10" sorts after "D1.2.9".
  function idKey(id) {
    return String(id).replace(/\d+/g, function (n) { return ('0000' + n).slice(-4); });
  }

  // Horizontal bars, 1–10, with CI whiskers and the PAPI 2024 median tick.
  function chartWidth() {
    // Draw at the real pixel width so text keeps its size on laptop and tablet.
    var w = main().clientWidth - 2 * 16 - 2 * 17;
    return Math.max(560, Math.min(1400, w || 860));
  }
  function dimensionChart(sum, ch, W) {
    var dims = sum.dimensions || [];
    var L = 8, R = 130, top = 8, rowH = 52, barH = 16, axisH = 30;
    var plotW = W - L - R;
    var H = top + dims.length * rowH + axisH;
    function x(v) { return L + (Math.max(1, Math.min(10, v)) - 1) / 9 * plotW; }
    var s = '<svg viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-labelledby="chart-title chart-desc" id="dimension-chart" focusable="false">' +
      '<desc id="chart-desc">' + esc(t('chartDesc')) + '</desc>';
    // grid
    for (var g = 1; g <= 10; g++) {
      s += '<line class="grid" x1="' + x(g) + '" x2="' + x(g) + '" y1="' + top + '" y2="' + (top + dims.length * rowH) + '"></line>';
      s += '<text class="tick" x="' + x(g) + '" y="' + (top + dims.length * rowH + 18) + '" text-anchor="middle">' + g + '</text>';
    }
    dims.forEach(function (d, i) {
      var y0 = top + i * rowH;
      var by = y0 + 24;
      var ref = PAPI2024_DIM_MEDIAN[i];
      var scored = isNum(d.score);
      var label = d.id + '  ' + nameOf(d);
      var c = ch[d.id];
      var aria = d.id + ' ' + nameOf(d) + ': ' + (scored ? nf(d.score, 2) + ' (' + t('ci95', { a: nf(d.ci_low, 2), b: nf(d.ci_high, 2) }) + ')' : t('dimNotScored')) +
        (isNum(ref) ? '; PAPI 2024: ' + nf(ref, 2) : '');
      s += '<g class="dim-row" data-dim="' + esc(d.id) + '"><title>' + esc(aria) + '</title>';
      s += '<text class="lbl" x="' + L + '" y="' + (y0 + 16) + '"><tspan class="lbl-id">' + esc(d.id) + '</tspan>  ' + esc(nameOf(d)) + '</text>';
      s += '<rect class="track" x="' + L + '" y="' + by + '" width="' + plotW + '" height="' + barH + '" rx="2"></rect>';
      if (scored) {
        s += '<rect class="bar" x="' + L + '" y="' + by + '" width="' + Math.max(2, x(d.score) - L).toFixed(1) + '" height="' + barH + '" rx="2"></rect>';
        if (isNum(d.ci_low) && isNum(d.ci_high)) {
          var cy = by + barH / 2;
          s += '<line class="ci" x1="' + x(d.ci_low).toFixed(1) + '" x2="' + x(d.ci_high).toFixed(1) + '" y1="' + cy + '" y2="' + cy + '"></line>' +
            '<line class="ci" x1="' + x(d.ci_low).toFixed(1) + '" x2="' + x(d.ci_low).toFixed(1) + '" y1="' + (cy - 6) + '" y2="' + (cy + 6) + '"></line>' +
            '<line class="ci" x1="' + x(d.ci_high).toFixed(1) + '" x2="' + x(d.ci_high).toFixed(1) + '" y1="' + (cy - 6) + '" y2="' + (cy + 6) + '"></line>';
        }
        s += '<text class="val" x="' + (W - R + 14) + '" y="' + (by + 13) + '">' + esc(nf(d.score, 2)) + '</text>';
        if (c && isNum(c.change)) {
          s += '<text class="tick" x="' + (W - R + 62) + '" y="' + (by + 13) + '">' + esc(signed(c.change, 2)) + (c.significant ? ' ✱' : '') + '</text>';
        }
      } else {
        s += '<text class="na" x="' + (L + 10) + '" y="' + (by + 12.5) + '">— ' + esc(t('dimNotScored')) + '</text>';
        s += '<text class="val" x="' + (W - R + 14) + '" y="' + (by + 13) + '" fill="#4f5863">—</text>';
      }
      if (isNum(ref)) {
        var rx = x(ref), ry = by + barH / 2;
        s += '<path class="ref" d="M' + rx.toFixed(1) + ' ' + (ry - 8) + ' L' + (rx + 6).toFixed(1) + ' ' + ry + ' L' + rx.toFixed(1) + ' ' + (ry + 8) + ' L' + (rx - 6).toFixed(1) + ' ' + ry + ' Z"></path>';
      }
      s += '</g>';
    });
    return s + '</svg>';
  }

  // ---------------------------------------------------------------- monthly trend
  // Shared by the commune and city pages. The state object st carries
  // trend (the /trend answer), trendErr and trendDim ('' = total score).
  var MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  // "2026-11-01" → "T11/2026" (vi) or "Nov 2026" (en); short drops the year.
  function monthLabel(iso, short) {
    var p = String(iso || '').split('-');
    var y = p[0], m = parseInt(p[1], 10);
    if (!(m >= 1 && m <= 12)) return String(iso || '');
    if (lang === 'en') return MONTHS_EN[m - 1] + (short ? '' : ' ' + y);
    return 'T' + m + (short ? '' : '/' + y);
  }
  function loadTrend(st, params) {
    st.trend = null; st.trendErr = null;
    api('/api/v1/trend' + qstr(params)).then(guard(function (r) { st.trend = r || { points: [] }; drawTrend(st); }))
      .catch(guard(function (e) { st.trendErr = e; drawTrend(st); }));
  }
  function trendSection(id, titleKey, st, q) {
    var dims = (S.cat && S.cat.dimensions) || [];
    var cur = st.trendDim || '';
    return '<section class="card chart trend" id="' + id + '" aria-labelledby="' + id + '-title">' +
      '<div class="card-head"><h2 id="' + id + '-title">' + esc(t(titleKey)) + '</h2>' +
      '<div class="trend-pick"><label for="trend-dimension">' + esc(t('trendShow')) + '</label> <select id="trend-dimension">' +
      '<option value=""' + (cur === '' ? ' selected' : '') + '>' + esc(t('trendTotal')) + '</option>' +
      dims.map(function (d) { return '<option value="' + esc(d.id) + '"' + (cur === d.id ? ' selected' : '') + '>' + esc(d.id + ' · ' + nameOf(d)) + '</option>'; }).join('') +
      '</select></div></div>' +
      '<div id="trend-box">' + trendBody(st) + '</div>' +
      (q && q.verified === '1' ? '<p class="small" id="trend-scope">' + esc(t('trendScope')) + '</p>' : '') +
      '</section>';
  }
  function bindTrend(st) {
    var sel = $('trend-dimension');
    if (sel) sel.addEventListener('change', function () { st.trendDim = sel.value; drawTrend(st); });
  }
  function drawTrend(st) {
    var box = $('trend-box');
    if (box) box.innerHTML = trendBody(st);
  }
  // Monthly series of the chosen measure; v/lo/hi are null when not scored.
  function trendSeries(st) {
    var id = st.trendDim || '';
    return ((st.trend && st.trend.points) || []).map(function (p) {
      var v = null, lo = null, hi = null;
      if (!id) v = p.total_score;
      else {
        var d = (p.dimensions || []).filter(function (x) { return x.id === id; })[0];
        if (d) { v = d.score; lo = d.ci_low; hi = d.ci_high; }
      }
      return { from: p.period && p.period.from, n: p.responses, v: isNum(v) ? v : null, lo: isNum(lo) ? lo : null, hi: isNum(hi) ? hi : null };
    });
  }
  function trendWhat(st) {
    var id = st.trendDim || '';
    if (!id) return t('trendTotal');
    var d = ((S.cat && S.cat.dimensions) || []).filter(function (x) { return x.id === id; })[0];
    return id + ' ' + (d ? nameOf(d) : '') + ' (1–10)';
  }
  function trendBody(st) {
    if (st.trendErr) return '<p class="msg msg-error" role="alert" id="trend-error">' + esc(t('trendErr')) + ' ' + esc(errText(st.trendErr)) + '</p>';
    if (!st.trend) return '<p class="loading-line" role="status">' + esc(t('loading')) + '</p>';
    var ser = trendSeries(st);
    var scored = ser.filter(function (x) { return x.v != null; });
    var isTotal = !st.trendDim;
    var what = trendWhat(st);
    var h = '';
    if (scored.length < 2) {
      var hint = '';
      if (isTotal) {
        hint = ' ' + t('notEnoughTotal');
        // Point to the dimensions when some of them do have a trend.
        var dimOK = ((S.cat && S.cat.dimensions) || []).some(function (d) {
          return (st.trend.points || []).filter(function (p) {
            return (p.dimensions || []).some(function (x) { return x.id === d.id && isNum(x.score); });
          }).length >= 2;
        });
        if (dimOK) hint += ' ' + t('trendTryDim');
      }
      h += '<p class="note trend-note" id="trend-note"><strong>' + esc(t('trendNotEnough')) + '</strong>' + esc(hint) + '</p>';
    }
    h += trendChart(ser, isTotal, what, chartWidth());
    h += '<p class="small trend-help">' + esc(t('trendHelp')) + (isTotal ? '' : ' ' + esc(t('trendHelpCI'))) + '</p>';
    // The same numbers for screen readers.
    h += '<table class="visually-hidden" id="trend-table"><caption>' + esc(t('trendTableCap', { what: what })) + '</caption><thead><tr>' +
      '<th scope="col">' + esc(t('trendMonth')) + '</th><th scope="col">' + esc(t('responses')) + '</th><th scope="col">' + esc(what) + '</th>' +
      (isTotal ? '' : '<th scope="col">' + esc(t('colCI')) + '</th>') + '</tr></thead><tbody>' +
      ser.map(function (x) {
        return '<tr><th scope="row">' + esc(monthLabel(x.from)) + '</th><td>' + esc(int(x.n)) + '</td><td>' + esc(x.v != null ? nf(x.v, 2) : t('trendNA')) + '</td>' +
          (isTotal ? '' : '<td>' + esc(x.lo != null && x.hi != null ? nf(x.lo, 2) + ' – ' + nf(x.hi, 2) : '—') + '</td>') + '</tr>';
      }).join('') + '</tbody></table>';
    return h;
  }
  // Tick step giving at most ~5 intervals over span.
  function niceStep(span) {
    var steps = [0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20];
    for (var i = 0; i < steps.length; i++) if (span / steps[i] <= 5) return steps[i];
    return 20;
  }
  // Line chart of one monthly measure; null months leave a gap.
  function trendChart(ser, isTotal, what, W) {
    var n = ser.length;
    var L = 54, R = 18, top = 18, plotH = 190;
    var empty = !ser.some(function (p) { return p.v != null; });
    if (empty) plotH = 24; // only the month axis with its response counts
    var plotW = W - L - R;
    var band = n ? plotW / n : plotW;
    var narrow = band < 62; // short month names, years on a row of their own
    var H = top + plotH + (narrow ? 58 : 46);
    var scaleLo = isTotal ? 8 : 1, scaleHi = isTotal ? 80 : 10;
    var vals = [];
    ser.forEach(function (x) { if (x.v != null) vals.push(x.v); if (x.lo != null) vals.push(x.lo); if (x.hi != null) vals.push(x.hi); });
    var lo, hi;
    if (vals.length) {
      lo = Math.min.apply(null, vals); hi = Math.max.apply(null, vals);
      // Keep month-to-month noise from looking like a cliff.
      var minSpan = isTotal ? 8 : 1;
      if (hi - lo < minSpan) { var mid = (hi + lo) / 2; lo = mid - minSpan / 2; hi = mid + minSpan / 2; }
    } else { lo = scaleLo; hi = scaleHi; }
    var step = niceStep(hi - lo);
    lo = Math.max(scaleLo, Math.floor(lo / step) * step);
    hi = Math.min(scaleHi, Math.ceil(hi / step) * step);
    if (hi <= lo) hi = lo + step;
    var dec = step < 0.25 ? 1 : step < 1 ? 2 : 0;
    if (step === 0.5 || step === 2.5) dec = 1;
    function x(i) { return L + (i + 0.5) * band; }
    function y(v) { return top + (1 - (Math.max(lo, Math.min(hi, v)) - lo) / (hi - lo)) * plotH; }

    var scored = [];
    ser.forEach(function (p) { if (p.v != null) scored.push(p); });
    var a = ser.length ? monthLabel(ser[0].from) : '', b = ser.length ? monthLabel(ser[n - 1].from) : '';
    function pv(p) { return t('trendPointIs', { m: monthLabel(p.from), v: nf(p.v, 2) }); }
    var aria = scored.length >= 2
      ? t('trendAria', { what: what, a: a, b: b, first: pv(scored[0]), last: pv(scored[scored.length - 1]), k: scored.length, n: n })
      : scored.length === 1 ? t('trendAriaOne', { what: what, a: a, b: b, first: pv(scored[0]) })
        : t('trendAriaNone', { what: what, a: a, b: b });

    var s = '<svg viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-label="' + esc(aria) + '" id="trend-chart" focusable="false" data-scored="' + scored.length + '">';
    // y grid and ticks
    for (var g = lo; !empty && g <= hi + step / 1000; g += step) {
      var gy = y(g).toFixed(1);
      s += '<line class="grid" x1="' + L + '" x2="' + (W - R) + '" y1="' + gy + '" y2="' + gy + '"></line>' +
        '<text class="tick" x="' + (L - 8) + '" y="' + (+gy + 4) + '" text-anchor="end">' + esc(nf(g, dec)) + '</text>';
    }
    s += '<line class="axis" x1="' + L + '" x2="' + (W - R) + '" y1="' + (top + plotH) + '" y2="' + (top + plotH) + '"></line>';
    // x labels: month, then the month's responses
    ser.forEach(function (p, i) {
      var cx = x(i).toFixed(1);
      var lbl = narrow ? monthLabel(p.from, true) : monthLabel(p.from);
      s += '<g class="xt' + (p.v == null ? ' xt-na' : '') + '"><line class="tickmark" x1="' + cx + '" x2="' + cx + '" y1="' + (top + plotH) + '" y2="' + (top + plotH + 4) + '"></line>' +
        '<text class="tick mlbl" x="' + cx + '" y="' + (top + plotH + 18) + '" text-anchor="middle">' + esc(lbl) + '</text>' +
        '<text class="tick nlbl" x="' + cx + '" y="' + (top + plotH + 36) + '" text-anchor="middle">' + esc((narrow ? '' : 'n=') + int(p.n)) + '</text></g>';
    });
    if (narrow && ser.length) {
      var yrs = [];
      ser.forEach(function (p, i) { if (i === 0 || /-01-/.test(p.from || '')) yrs.push([i, String(p.from).slice(0, 4)]); });
      yrs.forEach(function (yv) { s += '<text class="tick yr" x="' + x(yv[0]).toFixed(1) + '" y="' + (top + plotH + 50) + '" text-anchor="middle">' + yv[1] + '</text>'; });
    }
    // CI whiskers (dimensions only)
    ser.forEach(function (p, i) {
      if (p.v == null || p.lo == null || p.hi == null) return;
      var cx = x(i).toFixed(1);
      s += '<line class="tci" x1="' + cx + '" x2="' + cx + '" y1="' + y(p.hi).toFixed(1) + '" y2="' + y(p.lo).toFixed(1) + '"></line>' +
        '<line class="tci" x1="' + (x(i) - 4).toFixed(1) + '" x2="' + (x(i) + 4).toFixed(1) + '" y1="' + y(p.hi).toFixed(1) + '" y2="' + y(p.hi).toFixed(1) + '"></line>' +
        '<line class="tci" x1="' + (x(i) - 4).toFixed(1) + '" x2="' + (x(i) + 4).toFixed(1) + '" y1="' + y(p.lo).toFixed(1) + '" y2="' + y(p.lo).toFixed(1) + '"></line>';
    });
    // line segments over consecutive scored months
    var d = '', prev = false;
    ser.forEach(function (p, i) {
      if (p.v == null) { prev = false; return; }
      d += (prev ? ' L' : (d ? ' M' : 'M')) + x(i).toFixed(1) + ' ' + y(p.v).toFixed(1);
      prev = true;
    });
    if (d) s += '<path class="tline" d="' + d + '"></path>';
    ser.forEach(function (p, i) {
      if (p.v == null) return;
      var tip = monthLabel(p.from) + ': ' + nf(p.v, 2) + (p.lo != null && p.hi != null ? ' (' + t('ci95', { a: nf(p.lo, 2), b: nf(p.hi, 2) }) + ')' : '') + ' · ' + t('responses') + ' ' + int(p.n);
      s += '<circle class="tpt" cx="' + x(i).toFixed(1) + '" cy="' + y(p.v).toFixed(1) + '" r="4.5" data-month="' + esc(p.from) + '"><title>' + esc(tip) + '</title></circle>';
    });
    // value labels on the first and last scored months
    if (scored.length) {
      var ends = [scored[0]];
      if (scored.length > 1) ends.push(scored[scored.length - 1]);
      ends.forEach(function (p) {
        var i = ser.indexOf(p);
        var ly = (p.hi != null ? y(p.hi) : y(p.v)) - 9;
        if (ly < top - 4) ly = y(p.v) + 20;
        s += '<text class="tval" x="' + x(i).toFixed(1) + '" y="' + ly.toFixed(1) + '" text-anchor="middle">' + esc(nf(p.v, isTotal ? 1 : 2)) + '</text>';
      });
    }
    return s + '</svg>';
  }

  // ---------------------------------------------------------------- city view
  function viewCity(q) {
    setTitle(t('cityTitle'));
    showLoading();
    var params = periodParams(q);
    ['former_province', 'type', 'dimension', 'indicator'].forEach(function (k) { if (q[k]) params[k] = q[k]; });
    api('/api/v1/compare' + qstr(params)).then(guard(function (cmp) {
      var st = { view: q.view === 'heat' ? 'heat' : 'table', hideUnscored: false, sort: null, trendDim: '' };
      S.redraw = function () { drawCity(q, params, cmp, st); };
      S.redraw();
      loadTrend(st, { months: 12, to: cmp.period && cmp.period.to });
    })).catch(guard(function (e) { showError(e, function () { viewCity(q); }); }));
  }

  function drawCity(q, params, cmp, st) {
    setTitle(t('cityTitle'));
    main().removeAttribute('aria-busy');
    var ref = cmp.reference_papi_2024 || {};
    var rows = cmp.rows || [];
    var ranked = rows.filter(function (r) { return r.rank; }).length;
    var provs = ['Hồ Chí Minh', 'Bình Dương', 'Bà Rịa - Vũng Tàu'];
    var types = ['phuong', 'xa', 'dac_khu'];
    var rankBy = q.indicator || q.dimension || '';
    var dims = (S.cat && S.cat.dimensions) || [];

    var extra =
      '<div class="f"><label for="f-province">' + esc(t('formerProvince')) + '</label><select id="f-province"><option value="">' + esc(t('all')) + '</option>' +
      provs.map(function (p) { return '<option' + (q.former_province === p ? ' selected' : '') + '>' + esc(p) + '</option>'; }).join('') + '</select></div>' +
      '<div class="f"><label for="f-type">' + esc(t('ctype')) + '</label><select id="f-type"><option value="">' + esc(t('all')) + '</option>' +
      types.map(function (p) { return '<option value="' + p + '"' + (q.type === p ? ' selected' : '') + '>' + esc(t('type_' + p)) + '</option>'; }).join('') + '</select></div>' +
      '<div class="f"><label for="rank-by">' + esc(t('rankBy')) + '</label><select id="rank-by" style="max-width:22rem">' +
      '<option value="">' + esc(t('rankTotal')) + '</option><optgroup label="' + esc(t('rankDims')) + '">' +
      dims.map(function (d) { return '<option value="' + esc(d.id) + '"' + (rankBy === d.id ? ' selected' : '') + '>' + esc(d.id + ' · ' + nameOf(d)) + '</option>'; }).join('') + '</optgroup>' +
      dims.map(function (d) {
        return '<optgroup label="' + esc(t('indicatorsOf', { d: d.id })) + '">' + d.subdimensions.map(function (sd) {
          return sd.indicators.map(function (ind) { return '<option value="' + esc(ind.id) + '"' + (rankBy === ind.id ? ' selected' : '') + '>' + esc(ind.id + ' · ' + nameOf(ind)) + '</option>'; }).join('');
        }).join('') + '</optgroup>';
      }).join('') + '</select></div>';

    var dimName = {};
    dims.forEach(function (d) { dimName[d.id] = d; });
    var measureLabel = !rankBy ? t('colTotal') : (dimName[rankBy] ? rankBy + ' (1–10)' : rankBy + ' · ' + t('colScore'));
    var measureTitle = !rankBy ? t('rankTotal') : rankBy + ' · ' + (dimName[rankBy] ? nameOf(dimName[rankBy]) : nameOf(S.indById[rankBy]));
    function measure(r) {
      if (!rankBy) return r.total_score;
      if (dimName[rankBy]) { var d = (r.dimensions || []).filter(function (x) { return x.id === rankBy; })[0]; return d ? d.score : null; }
      return r.indicator ? r.indicator.score : null;
    }

    var refBox = '<section class="card ref-box" aria-labelledby="ref-title" id="reference-box"><h2 id="ref-title">' + esc(t('refTitle')) + ' <span class="ref-tag">' + esc(t('refTag')) + '</span></h2>' +
      '<div class="ref-grid">' +
      [['refNational', ref.national_median], ['refRank15', ref.rank_15_score], ['refHCMC', ref.hcmc_former], ['refBD', ref.binh_duong], ['refBRVT', ref.ba_ria_vung_tau]].map(function (x) {
        return '<div><strong>' + esc(nf(x[1], 2)) + '</strong>' + esc(t(x[0])) + '</div>';
      }).join('') + '</div>' +
      '<p class="small">' + esc(t('refScale')) + ' ' + esc(ref.note ? (lang === 'en' ? ref.note.en : ref.note.vi) : '') + '</p>' +
      (ref.source ? '<p class="small">' + esc(ref.source) + '</p>' : '') + '</section>';

    var kpis = '<div class="kpis">' +
      '<div class="kpi"><p class="k">' + esc(t('cityResponses')) + '</p><p class="v" id="city-responses">' + esc(int(cmp.city && cmp.city.responses)) + '</p></div>' +
      '<div class="kpi"><p class="k">' + esc(t('cityTotal')) + '</p>' + (cmp.city && isNum(cmp.city.total_score)
        ? '<p class="v" id="city-total">' + esc(nf(cmp.city.total_score, 2)) + '</p>'
        : '<p class="v na" id="city-total">' + esc(t('notEnough')) + '</p>') + '</div>' +
      '<div class="kpi"><p class="k">' + esc(t('communesRanked')) + '</p><p class="v" id="communes-ranked">' + ranked + ' / ' + rows.length + '</p>' +
      '<p class="d">' + esc(t('communesRankedLine', { a: ranked, b: rows.length })) + '</p></div></div>';

    var dlParams = Object.assign({}, params);
    var dl = '<div class="downloads">' +
      '<a class="btn" id="dl-compare-csv" href="/api/v1/compare' + esc(qstr(Object.assign({ format: 'csv' }, dlParams))) + '" download>CSV</a>' +
      '<a class="btn" id="dl-compare-xlsx" href="/api/v1/compare' + esc(qstr(Object.assign({ format: 'xlsx' }, dlParams))) + '" download>Excel (XLSX)</a></div>';

    var legend = '<ul class="hm-legend" id="band-legend" aria-label="' + esc(t('bandLegendTitle')) + '"><li><strong>' + esc(t('bandLegendTitle')) + '</strong></li>' +
      BANDS.map(function (b) { return '<li><span class="chip b-' + b + '">' + bandNo(b) + '</span>' + esc(bandName(b)) + '</li>'; }).join('') +
      '<li><span class="chip b-none">—</span>' + esc(t('bandNone')) + '</li></ul>' +
      (ranked < 8 ? '<p class="small">' + esc(t('bandNeeds')) + '</p>' : '');

    main().innerHTML =
      '<div class="page-head"><div class="grow"><h1>' + esc(t('cityTitle')) + '</h1><p class="sub" id="period-line">' +
      esc(t('periodLine', { from: dmy(cmp.period.from), to: dmy(cmp.period.to) })) + '</p></div></div>' +
      periodForm(q, cmp.period, extra) +
      (cmp.note ? '<div class="note" id="note"><p>' + esc(lang === 'en' ? cmp.note.en : cmp.note.vi) + '</p></div>' : '') +
      kpis + refBox +
      trendSection('city-trend', 'trendCityTitle', st, q) +
      '<section class="card" aria-labelledby="rank-title"><div class="card-head"><h2 id="rank-title">' + esc(t('ranking')) + ' · ' + esc(measureTitle) + '</h2>' +
      '<div class="view-switch" role="group" aria-label="' + esc(t('ranking')) + '">' +
      '<button type="button" id="view-table" aria-pressed="' + (st.view === 'table') + '">' + esc(t('viewTable')) + '</button>' +
      '<button type="button" id="view-heat" aria-pressed="' + (st.view === 'heat') + '">' + esc(t('viewHeat')) + '</button></div></div>' +
      '<div class="card-head"><label class="check"><input type="checkbox" id="hide-unscored"' + (st.hideUnscored ? ' checked' : '') + '> ' + esc(t('hideUnscored')) + '</label>' + dl + '</div>' +
      legend +
      '<p class="small" id="rows-count"></p>' +
      '<div class="table-wrap" id="city-table-wrap"' + (st.view === 'table' ? '' : ' hidden') + '></div>' +
      '<div id="heatmap-wrap"' + (st.view === 'heat' ? '' : ' hidden') + '><p class="small">' + esc(t('heatHelp')) + '</p><div class="table-wrap" id="heatmap-box"></div></div>' +
      '</section>';

    bindPeriodForm('/city', q, function (nq) {
      var p = $('f-province').value, ty = $('f-type').value, rb = $('rank-by').value;
      if (p) nq.former_province = p;
      if (ty) nq.type = ty;
      if (rb) { if (/^D\d+$/.test(rb)) nq.dimension = rb; else nq.indicator = rb; }
      if (st.view === 'heat') nq.view = 'heat';
    });
    // Changing what to rank by applies at once: it is the main drill control.
    $('rank-by').addEventListener('change', function () { $('filters').requestSubmit ? $('filters').requestSubmit() : $('apply-filters').click(); });
    bindTrend(st);
    S.resize = function () { drawTrend(st); };

    var dimCols = dims.map(function (d, i) {
      return {
        key: d.id, label: d.id, title: nameOf(d), cls: 'num', firstDir: 'descending',
        sort: function (r) { return r.dimensions[i] ? r.dimensions[i].score : null; },
        cell: function (r) { var x = r.dimensions[i]; return x && isNum(x.score) ? esc(nf(x.score, 2)) : dash(t('bandNone')); }
      };
    });
    var cols = [
      { key: 'rank', label: t('colRank'), cls: 'num', sort: function (r) { return r.rank || null; }, cell: function (r) { return r.rank ? String(r.rank) : dash(t('bandNone')); } },
      { key: 'name', label: t('commune'), rowHeader: true, sort: function (r) { return r.commune.name; },
        cell: function (r) { return '<a class="commune-link" href="#/commune/' + esc(r.commune.code) + '">' + esc(r.commune.name) + '</a><span class="ind-sub">' + esc(t('type_' + r.commune.type) + ' · ' + r.commune.former_province) + '</span>'; } },
      { key: 'responses', label: t('colResponses'), cls: 'num', firstDir: 'descending', sort: function (r) { return r.responses; }, cell: function (r) { return esc(int(r.responses)); } },
      { key: 'measure', label: measureLabel, title: measureTitle, cls: 'num', firstDir: 'descending', sort: measure,
        cell: function (r) { var v = measure(r); return isNum(v) ? '<strong>' + esc(nf(v, 2)) + '</strong>' : dash(t('bandNone')); } }
    ];
    if (q.indicator) {
      cols.push({ key: 'ivalue', label: t('colIndValue'), cls: 'num', sort: function (r) { return r.indicator ? r.indicator.value : null; },
        cell: function (r) { return r.indicator && isNum(r.indicator.value) ? esc(valueText(r.indicator.kind, r.indicator.value)) : dash(t('bandNone')); } });
    }
    cols.push(
      { key: 'band', label: t('colBand'), sort: function (r) { return r.band ? bandNo(r.band) : null; },
        cell: function (r) { return r.band ? '<span class="band"><span class="sw b-' + esc(r.band) + '" aria-hidden="true"></span>' + esc(bandName(r.band)) + '</span>' : '<span class="muted">—</span>'; } },
      { key: 'vs', label: t('colVs'), sort: function (r) { return { above: 1, not_different: 2, below: 3 }[r.versus_average] || null; },
        cell: function (r) { return r.versus_average ? '<span class="vs ' + esc(r.versus_average) + '">' + (r.versus_average === 'above' ? '▲ ' : r.versus_average === 'below' ? '▼ ' : '') + esc(t('vs_' + r.versus_average)) + '</span>' : '<span class="muted">—</span>'; } }
    );
    cols = cols.concat(dimCols);

    if (!st.sort) st.sort = { key: 'rank', dir: 'ascending' };
    function visible() { return st.hideUnscored ? rows.filter(function (r) { return isNum(measure(r)); }) : rows; }
    var tbl;
    function drawBoth() {
      var vis = visible();
      tbl = new SortTable('city-table', cols, vis, {
        key: st.sort.key, dir: st.sort.dir, caption: t('ranking'),
        rowAttrs: function (r) { return ' data-commune="' + esc(r.commune.code) + '"'; }
      });
      tbl.mount($('city-table-wrap'), function (x) { st.sort = { key: x.key, dir: x.dir }; drawHeat(x.sorted()); });
      drawHeat(tbl.sorted());
      $('rows-count').textContent = t('rows', { n: vis.length });
    }
    function drawHeat(sorted) {
      var h = '<table class="heatmap" id="heatmap"><caption class="visually-hidden">' + esc(t('viewHeat')) + '</caption><thead><tr><th scope="col">' + esc(t('commune')) + '</th>' +
        dims.map(function (d) { return '<th scope="col" title="' + esc(nameOf(d)) + '"><abbr title="' + esc(nameOf(d)) + '">' + esc(d.id) + '</abbr></th>'; }).join('') +
        '</tr></thead><tbody>';
      h += sorted.map(function (r) {
        return '<tr data-commune="' + esc(r.commune.code) + '"><th scope="row"><a href="#/commune/' + esc(r.commune.code) + '">' + esc(r.commune.name) + '</a></th>' +
          dims.map(function (d, i) {
            var x = r.dimensions[i] || {};
            var scored = isNum(x.score);
            var b = x.band || (scored ? 'nb' : 'none');
            var label = r.commune.name + ' — ' + d.id + ' ' + nameOf(d) + ': ' + (scored ? nf(x.score, 2) + (x.band ? ' — ' + bandName(x.band) : '') : t('bandNone'));
            return '<td class="hm-cell b-' + esc(b) + '" data-commune="' + esc(r.commune.code) + '" data-dim="' + esc(d.id) + '" data-band="' + esc(x.band || '') + '" title="' + esc(label) + '">' +
              '<span aria-hidden="true">' + (scored ? esc(nf(x.score, 1)) : '—') + (x.band ? '<span class="bn">' + bandNo(x.band) + '</span>' : '') + '</span>' +
              '<span class="visually-hidden">' + esc(label) + '</span></td>';
          }).join('') + '</tr>';
      }).join('');
      h += '</tbody></table>';
      $('heatmap-box').innerHTML = h;
    }
    drawBoth();

    function setView(v) {
      st.view = v;
      $('view-table').setAttribute('aria-pressed', String(v === 'table'));
      $('view-heat').setAttribute('aria-pressed', String(v === 'heat'));
      $('city-table-wrap').hidden = v !== 'table';
      $('heatmap-wrap').hidden = v !== 'heat';
      // Remember the view in the address without reloading.
      var nq = Object.assign({}, q);
      if (v === 'heat') nq.view = 'heat'; else delete nq.view;
      q.view = nq.view;
      if (history.replaceState) history.replaceState(null, '', hashFor('/city', nq));
    }
    $('view-table').addEventListener('click', function () { setView('table'); });
    $('view-heat').addEventListener('click', function () { setView('heat'); });
    $('hide-unscored').addEventListener('change', function (ev) { st.hideUnscored = ev.target.checked; drawBoth(); });
  }

  // ---------------------------------------------------------------- follow-up view
  function viewFollowup(q) {
    setTitle(t('fuTitle'));
    showLoading();
    var params = periodParams(q);
    api('/api/v1/followup' + qstr(params)).then(guard(function (fu) {
      var st = { open: {}, filter: '', sorts: {} };
      S.redraw = function () { drawFollowup(q, params, fu, st); };
      S.redraw();
    })).catch(guard(function (e) { showError(e, function () { viewFollowup(q); }); }));
  }

  function taskList(text) {
    var parts = String(text || '').replace(/^\s*[-–]\s+/, '').split(/\s[-–]\s/);
    var out = [];
    parts.forEach(function (p) {
      var ch = p.trim().charAt(0);
      // A lower-case start means the dash was inside a phrase ("chính trị - xã hội").
      if (out.length && ch && ch === ch.toLowerCase() && ch !== ch.toUpperCase()) out[out.length - 1] += ' - ' + p.trim();
      else if (p.trim()) out.push(p.trim());
    });
    return out;
  }

  function drawFollowup(q, params, fu, st) {
    setTitle(t('fuTitle'));
    main().removeAttribute('aria-busy');
    var agencies = (fu.agencies || []).slice().sort(function (a, b) { return b.items.length - a.items.length || a.agency.localeCompare(b.agency, 'vi'); });
    var dl = '<div class="downloads"><a class="btn" id="dl-followup-xlsx" href="/api/v1/followup' + esc(qstr(Object.assign({ format: 'xlsx' }, params))) + '" download>' + esc(t('dlFollowup')) + '</a></div>';
    main().innerHTML =
      '<div class="page-head"><div class="grow"><h1>' + esc(t('fuTitle')) + '</h1><p class="sub">' + esc(t('fuSub')) + '</p>' +
      '<p class="sub" id="period-line">' + esc(t('periodLine', { from: dmy(fu.period.from), to: dmy(fu.period.to) })) + '</p></div>' + dl + '</div>' +
      periodForm(q, fu.period, '') +
      (fu.note ? '<div class="note" id="note"><p>' + esc(lang === 'en' ? fu.note.en : fu.note.vi) + '</p></div>' : '') +
      '<div class="card-head"><div class="filters"><div class="f"><label for="agency-filter">' + esc(t('fuFilter')) + '</label>' +
      '<input type="search" id="agency-filter" value="' + esc(st.filter) + '" autocomplete="off"></div></div>' +
      '<p class="small" id="agency-count" aria-live="polite"></p></div>' +
      (agencies.length ? '<ul class="agencies" id="agency-list"></ul>' : '<p class="msg msg-info">' + esc(t('fuNone')) + '</p>');
    bindPeriodForm('/followup', q);
    if (!agencies.length) return;

    var list = $('agency-list');
    list.innerHTML = agencies.map(function (a, i) {
      var communes = {};
      a.items.forEach(function (it) { communes[it.commune] = 1; });
      var id = 'agency-' + i;
      return '<li class="agency" data-agency="' + esc(a.agency) + '" data-index="' + i + '">' +
        '<h2 style="margin:0;font-size:1rem"><button type="button" class="agency-toggle" aria-expanded="' + (st.open[a.agency] ? 'true' : 'false') + '" aria-controls="' + id + '-body" id="' + id + '-btn">' +
        '<span class="chev" aria-hidden="true">▶</span><span class="name">' + esc(a.agency) + '</span>' +
        '<span class="small">' + esc(t('fuCommunes', { n: Object.keys(communes).length })) + '</span>' +
        '<span class="count">' + esc(t('fuItems', { n: int(a.items.length) })) + '</span></button></h2>' +
        '<div class="agency-body" id="' + id + '-body"' + (st.open[a.agency] ? '' : ' hidden') + '></div></li>';
    }).join('');

    function fill(i) {
      var a = agencies[i];
      var body = $('agency-' + i + '-body');
      var cols = [
        { key: 'commune', label: t('commune'), rowHeader: true, sort: function (r) { return r.commune_name; },
          cell: function (r) { return '<a href="#/commune/' + esc(r.commune) + '">' + esc(r.commune_name) + '</a>'; } },
        { key: 'indicator', label: t('colIndicator'), sort: function (r) { return idKey(r.indicator); },
          cell: function (r) { var ind = S.indById[r.indicator]; return '<span class="ind-name">' + esc(ind ? nameOf(ind) : r.indicator_name) + '</span><span class="ind-sub">' + esc(r.indicator) + '</span>'; } },
        { key: 'value', label: t('colValue'), cls: 'num', sort: function (r) { return r.value; },
          cell: function (r) { var ind = S.indById[r.indicator]; return esc(valueText(ind ? ind.kind : 'mean', r.value)); } },
        { key: 'score', label: t('fuScoreTarget'), cls: 'num', sort: function (r) { return r.score; },
          cell: function (r) { return '<strong>' + esc(nf(r.score, 2)) + '</strong> / ' + esc(nf(r.target_score, 2)); } },
        { key: 'gap', label: t('fuGap'), cls: 'num', firstDir: 'descending', sort: function (r) { return r.gap; },
          cell: function (r) { return esc(signed(-r.gap, 2)); } },
        { key: 'role', label: t('fuRole'), sort: function (r) { return { implementing: 1, lead: 2, coordinating: 3 }[r.role] || 9; },
          cell: function (r) { return '<span class="role role-' + esc(r.role) + '">' + esc(t('role_' + r.role)) + '</span>'; } },
        { key: 'tasks', label: t('fuTasks'),
          cell: function (r) {
            if (!r.tasks) return '<span class="muted">—</span>';
            return '<details class="tasks"><summary>' + esc(t('fuShowTasks')) + '</summary><ul>' + taskList(r.tasks).map(function (x) { return '<li>' + esc(x) + '</li>'; }).join('') + '</ul></details>';
          } }
      ];
      var s = st.sorts[a.agency] || { key: 'gap', dir: 'descending' };
      var tbl = new SortTable('agency-' + i + '-table', cols, a.items, { key: s.key, dir: s.dir, caption: a.agency });
      body.innerHTML = '<div class="table-wrap"></div>';
      tbl.mount(body.firstChild, function (x) { st.sorts[a.agency] = { key: x.key, dir: x.dir }; });
    }
    agencies.forEach(function (a, i) { if (st.open[a.agency]) fill(i); });

    list.addEventListener('click', function (ev) {
      var b = ev.target.closest ? ev.target.closest('.agency-toggle') : null;
      if (!b) return;
      var li = b.closest('.agency');
      var i = +li.getAttribute('data-index');
      var a = agencies[i];
      var open = b.getAttribute('aria-expanded') !== 'true';
      b.setAttribute('aria-expanded', String(open));
      st.open[a.agency] = open;
      var body = $('agency-' + i + '-body');
      if (open && !body.firstChild) fill(i);
      body.hidden = !open;
    });
    function filter() {
      var f = $('agency-filter').value.trim().toLowerCase();
      st.filter = $('agency-filter').value;
      var n = 0;
      each(list.children, function (li) {
        var show = !f || li.getAttribute('data-agency').toLowerCase().indexOf(f) >= 0;
        li.hidden = !show;
        if (show) n++;
      });
      $('agency-count').textContent = t('fuAgencies', { n: n });
    }
    $('agency-filter').addEventListener('input', filter);
    filter();
  }

  // ---------------------------------------------------------------- centres view
  function viewCentres(code) {
    var c = S.byCode[code] || { code: code, name: code };
    setTitle(t('centresTitle') + ' · ' + c.name);
    showLoading();
    api('/api/v1/communes/' + encodeURIComponent(code) + '/centres').then(guard(function (list) {
      var st = { list: list || [], receipts: {}, msg: null };
      S.redraw = function () { drawCentres(c, st); };
      S.redraw();
    })).catch(guard(function (e) { showError(e, function () { viewCentres(code); }); }));
  }

  function drawCentres(c, st) {
    setTitle(t('centresTitle') + ' · ' + c.name);
    main().removeAttribute('aria-busy');
    main().innerHTML =
      '<div class="page-head"><div class="grow"><h1>' + esc(t('centresTitle')) + '</h1><p class="sub">' + esc(c.name) + (c.type ? ' · ' + esc(communeMeta(c)) : '') + '</p></div>' +
      '<a class="btn btn-small btn-ghost" href="#/commune/' + esc(c.code) + '">' + esc(t('backToResults', { name: c.name })) + '</a></div>' +
      '<div id="centre-msg" role="status" aria-live="polite"></div>' +
      '<div class="centres" id="centre-list">' +
      (st.list.length ? st.list.map(function (ct) { return centreCard(ct, st.receipts[ct.id]); }).join('') : '<p class="empty">' + esc(t('centresNone')) + '</p>') +
      '</div>' +
      '<section class="card" aria-labelledby="add-title" style="margin-top:16px"><h2 id="add-title">' + esc(t('addCentre')) + '</h2>' +
      '<form class="inline-form" id="centre-add-form" novalidate><div class="f"><label for="centre-name">' + esc(t('centreName')) + '</label>' +
      '<input type="text" id="centre-name" maxlength="200" required autocomplete="off"></div>' +
      '<button type="submit" class="btn btn-primary" id="centre-add">' + esc(t('addBtn')) + '</button></form>' +
      '<p class="field-error" id="centre-name-error" role="alert"></p></section>';
    if (st.msg) $('centre-msg').innerHTML = '<div class="msg msg-ok"><p>' + esc(st.msg()) + '</p></div>';

    $('centre-add-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var input = $('centre-name'), btn = $('centre-add'), err = $('centre-name-error');
      var name = input.value.trim();
      err.textContent = '';
      input.removeAttribute('aria-invalid');
      if (!name) { input.setAttribute('aria-invalid', 'true'); err.textContent = t('centreName'); input.focus(); return; }
      btn.disabled = true; btn.textContent = t('adding');
      api('/api/v1/communes/' + encodeURIComponent(c.code) + '/centres', { method: 'POST', body: { name: name } }).then(function (ct) {
        st.list.push(ct);
        st.msg = function () { return t('added', { name: ct.name }); };
        drawCentres(c, st);
        var card = document.querySelector('[data-centre="' + ct.id + '"] h2');
        if (card) { card.setAttribute('tabindex', '-1'); card.focus(); }
      }).catch(function (e) {
        btn.disabled = false; btn.textContent = t('addBtn');
        input.setAttribute('aria-invalid', 'true');
        err.textContent = errText(e);
      });
    });

    $('centre-list').addEventListener('click', function (ev) {
      var b = ev.target.closest ? ev.target.closest('button') : null;
      if (!b) return;
      var id = b.getAttribute('data-id');
      if (b.classList.contains('receipt-btn')) {
        b.disabled = true;
        api('/api/v1/centres/' + encodeURIComponent(id) + '/receipts', { method: 'POST' }).then(function (r) {
          st.receipts[id] = r;
          var box = $('receipt-' + id);
          box.innerHTML = receiptHTML(r);
          box.hidden = false;
          b.disabled = false;
        }).catch(function (e) {
          b.disabled = false;
          var box = $('receipt-' + id);
          box.innerHTML = '<div class="msg msg-error"><p>' + esc(errText(e)) + '</p></div>';
          box.hidden = false;
        });
      } else if (b.classList.contains('copy-btn')) {
        var text = b.getAttribute('data-copy');
        var done = function () { b.textContent = t('copied'); setTimeout(function () { b.textContent = t('copy'); }, 2000); };
        if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, function () {});
      }
    });
  }
  function receiptHTML(r) {
    return '<div class="msg msg-ok"><p>' + esc(t('receiptCode')) + ': <code class="receipt-code">' + esc(r.code) + '</code></p>' +
      '<p>' + esc(t('receiptURL')) + ': <a class="url receipt-url" href="' + esc(r.form_url) + '" target="_blank" rel="noopener">' + esc(r.form_url) + '</a></p></div>';
  }
  function centreCard(ct, receipt) {
    return '<article class="card centre-card" data-centre="' + esc(ct.id) + '"><div>' +
      '<h2>' + esc(ct.name) + '</h2>' +
      '<p class="small"><span class="' + (ct.open ? 'status-open' : 'status-closed') + '">' + (ct.open ? '● ' : '○ ') + esc(t(ct.open ? 'open' : 'closed')) + '</span></p>' +
      '<p class="small" style="margin:8px 0 2px">' + esc(t('formURL')) + '</p>' +
      '<p style="margin:0"><a class="url form-url" href="' + esc(ct.form_url) + '" target="_blank" rel="noopener">' + esc(ct.form_url) + '</a></p>' +
      '<div class="actions">' +
      '<a class="btn poster-link" href="' + esc(ct.poster_url) + '" target="_blank" rel="noopener">' + esc(t('poster')) + ' <span class="visually-hidden">' + esc(t('newTab')) + '</span></a>' +
      '<a class="btn qr-link" href="' + esc(ct.qr_url) + '" download>' + esc(t('qrPNG')) + '</a>' +
      (navigator.clipboard ? '<button type="button" class="btn copy-btn" data-copy="' + esc(ct.form_url) + '">' + esc(t('copy')) + '</button>' : '') +
      '<button type="button" class="btn btn-primary receipt-btn" id="receipt-btn-' + esc(ct.id) + '" data-id="' + esc(ct.id) + '">' + esc(t('issueReceipt')) + '</button>' +
      '</div><p class="small" style="margin-top:8px">' + esc(t('receiptHelp')) + '</p></div>' +
      '<div class="qr"><img src="' + esc(ct.qr_url) + '" alt="' + esc(t('qrAlt', { name: ct.name })) + '" width="132" height="132" loading="lazy"></div>' +
      '<div class="receipt" id="receipt-' + esc(ct.id) + '" aria-live="polite"' + (receipt ? '' : ' hidden') + '>' + (receipt ? receiptHTML(receipt) : '') + '</div>' +
      '</article>';
  }

  // ---------------------------------------------------------------- boot
  var pageName = document.body.getAttribute('data-page');
  if (pageName === 'login') initLogin();
  else if (pageName === 'staff') initStaff();
  else initIndex();
})();
