// BuildView: the network editor. A tree of layers (residual bodies and concat branches nest)
// whose names and settings ("out=16 kernel=3 padding=1") are edited in place, with add,
// remove, reorder and "wrap in a residual block"; each row shows the engine's output shape,
// parameter count and FLOPs. An invalid network shows the engine's error on the offending row
// and valid() turns false (the window disables Train). Every change is a QUndoStack command;
// networks are opened from and saved to NetSpec JSON.
#pragma once

#include "training_session.h"
#include "view.h"

#include <QJsonObject>

class QLabel;
class QLineEdit;
class QTreeWidget;
class QTreeWidgetItem;
class QUndoStack;

namespace convscope::ui {

class BuildView : public View {
    Q_OBJECT
public:
    enum Column { Name, Type, Settings, Output, Field, Params, Flops, Columns };

    explicit BuildView(QWidget* parent = nullptr);

    // The network being edited; setSpec() is one undoable step named `what`.
    const QJsonObject& spec() const { return m_spec; }
    QByteArray specJson() const;
    void setSpec(const QJsonObject& spec, const QString& what);
    bool loadPreset(const QString& name);
    // A network to start from: the dataset's input and a linear classifier (undoable).
    void newNetwork();
    // The dataset decides the input shape; not an undoable edit (empty: keep the spec's).
    void setInput(const QVector<int>& chw);

    // Applies what an open in-place editor holds, so spec() and valid() include it.
    void commitEdit();
    bool valid() const { return m_check.ok; }
    const SpecCheck& check() const { return m_check; }
    QUndoStack* undoStack() const { return m_undo; }
    QTreeWidget* tree() const { return m_tree; }
    QLabel* errorLabel() const { return m_error; }
    // The tree item of analysis row `row` (layers in execution order), or null.
    QTreeWidgetItem* itemOfRow(int row) const;

    // Edits, each undoable; they act on the current item.
    void addLayer(const QString& type);
    void removeCurrent();
    void moveCurrent(int by);
    void wrapCurrentInResidual();

    bool openFile(const QString& path, QString* error);
    bool saveFile(const QString& path, QString* error) const;

    bool exportCsv(const QString& path) override; // the layer table
    QString csvDescription() const override { return tr("the layer table"); }

protected:
    void changeEvent(QEvent* e) override; // a new font (presenter mode): the columns fit again

signals:
    void specChanged(bool valid);

private:
    void apply(const QJsonObject& spec); // the undo commands' way in
    void rebuild();
    // The tree from the spec, unless a cell is being edited (View calls it at the first show too).
    void refresh() override;
    void fitNameColumn(); // to its contents, at most a third of the width
    void onItemChanged(QTreeWidgetItem* item, int column);
    QWidget* buildToolbar();
    QTreeWidgetItem* currentLayer() const; // the current item when it is a layer, not a branch
    friend class SpecCommand;

    QJsonObject m_spec;
    SpecCheck m_check;
    QUndoStack* m_undo = nullptr;
    QTreeWidget* m_tree = nullptr;
    QLabel *m_error = nullptr, *m_totals = nullptr, *m_description = nullptr;
    QLineEdit *m_name = nullptr, *m_about = nullptr;
    QList<QTreeWidgetItem*> m_rows; // layer items in execution (analysis) order
    QVector<int> m_input;           // the dataset's (C, H, W); empty: the spec's own
    QVariantList m_select;          // the item to make current after the next rebuild
    QString m_refused; // why the last in-place edit was refused, shown after the rebuild
    bool m_rebuilding = false, m_refreshQueued = false, m_committing = false;
};

} // namespace convscope::ui
