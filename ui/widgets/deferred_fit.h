#pragma once
// DeferredFit: fill a table or tree without re-measuring its columns per cell.
//
// A header section in ResizeToContents mode measures every cell of its column each time the
// view asks where a section lies, and every setItem/setText asks: filling n cells costs n whole
// column measurements (text shaping included), 20-30 ms for a 20-row table on this machine —
// the event loop's budget. While a DeferredFit lives those sections are Interactive; when it
// ends they return to ResizeToContents and are measured once.
#include <QHeaderView>
#include <QVector>

namespace convscope::ui {

class DeferredFit {
public:
    explicit DeferredFit(QHeaderView* header) : m_header(header) {
        for (int c = 0; c < header->count(); ++c)
            if (header->sectionResizeMode(c) == QHeaderView::ResizeToContents) {
                m_fit << c;
                header->setSectionResizeMode(c, QHeaderView::Interactive);
            }
    }
    ~DeferredFit() {
        for (int c : m_fit)
            m_header->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    }
    DeferredFit(const DeferredFit&) = delete;
    DeferredFit& operator=(const DeferredFit&) = delete;

private:
    QHeaderView* m_header;
    QVector<int> m_fit;
};

} // namespace convscope::ui
