// BuildView: the layer tree, its in-place editing and the undoable edits.
#include "build_view.h"
#include "deferred_fit.h"

#include <QEvent>
#include <QLineEdit>
#include <QTextStream>

#include <QFile>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QSaveFile>
#include <QScopeGuard>
#include <QShortcut>
#include <QToolButton>
#include <QTreeWidget>
#include <QUndoStack>
#include <QVBoxLayout>
#include <algorithm>
#include <functional>

namespace convscope::ui {

namespace {

// Where a layer lives in the spec: keys and indices, e.g. ("layers", 3, "body", 1); a concat
// branch (not a layer) ends in ("branches", b).
using Path = QVariantList;

QJsonValue valueAt(const QJsonValue& root, const Path& path, int depth = 0) {
    if (depth == path.size())
        return root;
    const QVariant& key = path[depth];
    if (key.typeId() == QMetaType::Int)
        return valueAt(root.toArray().at(key.toInt()), path, depth + 1);
    return valueAt(root.toObject().value(key.toString()), path, depth + 1);
}

QJsonValue withValueAt(const QJsonValue& root, const Path& path, const QJsonValue& v,
                       int depth = 0) {
    if (depth == path.size())
        return v;
    const QVariant& key = path[depth];
    if (key.typeId() == QMetaType::Int) {
        QJsonArray a = root.toArray();
        const int i = key.toInt();
        if (i < 0 || i >= a.size())
            return root; // a stale path: nothing to change
        a[i] = withValueAt(a.at(i), path, v, depth + 1);
        return a;
    }
    QJsonObject o = root.toObject();
    o[key.toString()] = withValueAt(o.value(key.toString()), path, v, depth + 1);
    return o;
}

bool isBranch(const Path& p) {
    return p.size() >= 2 && p[p.size() - 2].toString() == "branches";
}

// Settings in the order a lecture names them; anything else follows alphabetically.
const QStringList kKeyOrder = {
    "out",       "kernel", "stride", "padding", "dilation", "groups",   "bias",
    "init",      "slope",  "rate",   "eps",     "momentum", "shortcut", "shortcut_batch_norm",
    "activation"};
const QStringList kStructural = {"type", "name", "body", "branches"};

QString valueText(const QJsonValue& v) {
    if (v.isDouble()) {
        const double d = v.toDouble();
        return d == double(qint64(d)) ? QString::number(qint64(d)) : QString::number(d, 'g', 6);
    }
    if (v.isBool())
        return v.toBool() ? "true" : "false";
    if (v.isString() && !v.toString().contains(' '))
        return v.toString();
    if (v.isArray())
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    return QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact))
        .mid(1)
        .chopped(1);
}

QString settingsText(const QJsonObject& layer) {
    QStringList keys = layer.keys();
    std::sort(keys.begin(), keys.end(), [](const QString& a, const QString& b) {
        const qsizetype ia = kKeyOrder.indexOf(a), ib = kKeyOrder.indexOf(b);
        if ((ia < 0) != (ib < 0))
            return ia >= 0;
        return ia >= 0 ? ia < ib : a < b;
    });
    QStringList parts;
    for (const QString& k : keys)
        if (!kStructural.contains(k))
            parts << k + "=" + valueText(layer.value(k));
    return parts.join(' ');
}

// "out=16 kernel=3 padding=same" (commas and spaces separate, except inside [3,5] and {...})
// into JSON values.
bool parseSettings(const QString& text, QJsonObject& out, QString* error) {
    QStringList tokens;
    QString token;
    int depth = 0;
    for (const QChar c : text + ' ') {
        if (c == '[' || c == '{')
            ++depth;
        else if (c == ']' || c == '}')
            --depth;
        if (depth == 0 && (c.isSpace() || c == ',' || c == ';')) {
            if (!token.isEmpty())
                tokens << token;
            token.clear();
        } else {
            token += c;
        }
    }
    for (const QString& t : tokens) {
        const qsizetype eq = t.indexOf('=');
        if (eq <= 0 || eq == t.size() - 1) {
            *error = QObject::tr("\"%1\" is not key=value. Write settings as key=value pairs, "
                                 "e.g. out=16 kernel=3 padding=1")
                         .arg(t);
            return false;
        }
        const QString key = t.left(eq), value = t.mid(eq + 1);
        if (kStructural.contains(key)) {
            *error = QObject::tr("\"%1\" is not a setting: edit the name in its own column, and "
                                 "add layers with Add layer")
                         .arg(key);
            return false;
        }
        const QJsonDocument d = QJsonDocument::fromJson(("[" + value + "]").toUtf8());
        out[key] = d.isArray() && d.array().size() == 1 ? d.array().at(0) : QJsonValue(value);
    }
    return true;
}

// A new layer of `type` with settings that fit after a layer with `channels` output channels.
QJsonObject layerTemplate(const QString& type, int channels) {
    const auto conv = [](int out) {
        return QJsonObject{{"type", "conv2d"}, {"out", out}, {"kernel", 3}, {"padding", 1}};
    };
    if (type == "conv2d")
        return conv(16);
    if (type == "linear")
        return {{"type", type}, {"out", 10}};
    if (type == "max_pool2d" || type == "avg_pool2d")
        return {{"type", type}, {"kernel", 2}};
    if (type == "leaky_relu")
        return {{"type", type}, {"slope", 0.01}};
    if (type == "dropout")
        return {{"type", type}, {"rate", 0.5}};
    if (type == "concat") // an Inception-style block: 1x1 and 3x3 branches side by side
        return {{"type", type},
                {"branches",
                 QJsonArray{QJsonArray{QJsonObject{{"type", "conv2d"}, {"out", 8}, {"kernel", 1}}},
                            QJsonArray{conv(8)}}}};
    if (type == "residual") {
        const int c = channels > 0 ? channels : 16;
        return {{"type", type},
                {"body", QJsonArray{conv(c), QJsonObject{{"type", "batch_norm"}},
                                    QJsonObject{{"type", "relu"}}, conv(c),
                                    QJsonObject{{"type", "batch_norm"}}}},
                {"shortcut", channels > 0 ? "identity" : "projection"}};
    }
    return {{"type", type}};
}

QString namePrefix(const QString& type) {
    static const QHash<QString, QString> p = {{"conv2d", "conv"},         {"linear", "fc"},
                                              {"max_pool2d", "pool"},     {"avg_pool2d", "avgpool"},
                                              {"global_avg_pool", "gap"}, {"batch_norm", "bn"},
                                              {"layer_norm", "ln"},       {"dropout", "drop"},
                                              {"residual", "block"},      {"leaky_relu", "lrelu"}};
    return p.value(type, type);
}

// Generated names ("relu3") of the given prefixes renumbered in execution order, so a layer
// added between relu1 and relu2 is relu2 and the old relu2 becomes relu3; other names stay.
QJsonObject numberedByPosition(QJsonObject spec, const QSet<QString>& prefixes) {
    QHash<QString, QList<Path>> found; // prefix → paths of its generated names, in order
    std::function<void(const QJsonArray&, const Path&)> walk = [&](const QJsonArray& layers,
                                                                   const Path& at) {
        for (int i = 0; i < layers.size(); ++i) {
            const QJsonObject l = layers[i].toObject();
            const Path here = Path(at) << i;
            const QString name = l.value("name").toString();
            for (const QString& p : prefixes)
                if (name.size() > p.size() && name.startsWith(p) &&
                    std::all_of(name.begin() + p.size(), name.end(),
                                [](QChar c) { return c.isDigit(); }))
                    found[p] << here;
            if (l.contains("body"))
                walk(l.value("body").toArray(), Path(here) << "body");
            const QJsonArray branches = l.value("branches").toArray();
            for (int b = 0; b < branches.size(); ++b)
                walk(branches[b].toArray(), Path(here) << "branches" << b);
        }
    };
    walk(spec.value("layers").toArray(), Path{"layers"});
    for (auto it = found.begin(); it != found.end(); ++it)
        for (int k = 0; k < it.value().size(); ++k)
            spec =
                withValueAt(spec, Path(it.value()[k]) << "name", it.key() + QString::number(k + 1))
                    .toObject();
    return spec;
}

void collectNames(const QJsonValue& v, QSet<QString>& names) {
    if (v.isArray())
        for (const QJsonValue& e : v.toArray())
            collectNames(e, names);
    else if (v.isObject()) {
        const QJsonObject o = v.toObject();
        if (o.contains("name"))
            names << o.value("name").toString();
        collectNames(o.value("body"), names);
        collectNames(o.value("branches"), names);
        collectNames(o.value("layers"), names);
    }
}

// Fresh layer names for a spec: "conv3" when conv1 and conv2 are taken, the type's prefix
// followed by the smallest free number.
class NameGiver {
public:
    explicit NameGiver(const QJsonObject& spec) { collectNames(spec, m_taken); }
    QString operator()(const QString& type) {
        for (int n = 1;; ++n)
            if (const QString name = namePrefix(type) + QString::number(n);
                !m_taken.contains(name)) {
                m_taken << name;
                return name;
            }
    }

private:
    QSet<QString> m_taken;
};

QString typeTip(const QString& type) {
    static const QHash<QString, QString> tips = {
        {"conv2d", QObject::tr("Convolution: c^[l] filters of k_h×k_w over all input channels, "
                               "stride S^[l], padding p^[l]; output side ⌊(n + 2p − k)/S⌋ + 1")},
        {"linear", QObject::tr("Fully connected: y = Wx + b")},
        {"max_pool2d", QObject::tr("Max pooling: the largest value of each k×k window")},
        {"avg_pool2d", QObject::tr("Average pooling: the mean of each k×k window")},
        {"global_avg_pool", QObject::tr("The mean of each channel: C×H×W becomes C")},
        {"relu", QObject::tr("ReLU: max(0, x)")},
        {"leaky_relu", QObject::tr("Leaky ReLU: x for x > 0, slope·x otherwise")},
        {"sigmoid", QObject::tr("σ(x) = 1/(1 + e^−x); σ' ≤ 1/4, so gradients shrink")},
        {"tanh", QObject::tr("tanh(x) = 2σ(2x) − 1")},
        {"batch_norm",
         QObject::tr("Batch norm: x̂ = (x − μ_B)/√(σ_B² + ε), y = γx̂ + β per channel")},
        {"layer_norm", QObject::tr("Layer norm: normalise each sample over its features")},
        {"dropout", QObject::tr("Dropout: zero each unit with probability rate while training, "
                                "scale the rest by 1/(1 − rate)")},
        {"flatten", QObject::tr("C×H×W feature maps into one vector")},
        {"residual", QObject::tr("Residual block: H(x) = F(x) + x, the body learns the residual "
                                 "F(x); shortcut=projection uses a 1x1 conv when shapes differ")},
        {"concat", QObject::tr("Inception-style block: branches read the same input, their "
                               "feature maps are joined along the channels. Select a branch "
                               "to add layers to it")}};
    return tips.value(type);
}

} // namespace

// The tree, telling whether an in-place editor is open.
class LayerTree : public QTreeWidget {
public:
    std::function<void()> editorClosed; // however it closed: Return, Escape, focus, code
    bool editing() const { return state() == QAbstractItemView::EditingState; }
    // Closes the in-place editor without committing it (before an edit that moves rows).
    void discardEditor() {
        if (editing() && m_edited.isValid())
            if (QWidget* editor = indexWidget(m_edited))
                closeEditor(editor, QAbstractItemDelegate::NoHint);
    }
    // Commits what the in-place editor holds and closes it (before training the network).
    void commitEditor() {
        if (editing() && m_edited.isValid())
            if (QWidget* editor = indexWidget(m_edited)) {
                commitData(editor);
                closeEditor(editor, QAbstractItemDelegate::NoHint);
            }
    }

protected:
    void closeEditor(QWidget* editor, QAbstractItemDelegate::EndEditHint hint) override {
        QTreeWidget::closeEditor(editor, hint);
        if (editorClosed)
            editorClosed();
    }
    bool edit(const QModelIndex& index, EditTrigger trigger, QEvent* event) override {
        const bool started = QTreeWidget::edit(index, trigger, event);
        if (started)
            m_edited = index;
        return started;
    }

private:
    QPersistentModelIndex m_edited;
};

// One edit of the network: the spec before and after.
class SpecCommand : public QUndoCommand {
public:
    SpecCommand(BuildView* view, QJsonObject before, QJsonObject after, const QString& text)
        : m_view(view), m_before(std::move(before)), m_after(std::move(after)) {
        setText(text);
    }
    void undo() override { m_view->apply(m_before); }
    void redo() override { m_view->apply(m_after); }

private:
    BuildView* m_view;
    QJsonObject m_before, m_after;
};

BuildView::BuildView(QWidget* parent) : View(parent) {
    m_undo = new QUndoStack(this);
    m_description = new QLabel;
    m_description->setWordWrap(true);
    m_tree = new LayerTree;
    m_tree->setObjectName("layer tree");
    m_tree->setColumnCount(Columns);
    m_tree->setHeaderLabels({tr("Layer"), tr("Type"), tr("Settings"), tr("Output"), tr("RF"),
                             tr("Params"), tr("FLOPs")});
    m_tree->headerItem()->setToolTip(
        Settings, tr("Double-click (or F2) to edit: key=value pairs such as out=16 kernel=3 "
                     "stride=1 padding=1 (or padding=same)"));
    m_tree->headerItem()->setToolTip(Output, tr("C×H×W of the layer's output for one image"));
    m_tree->headerItem()->setToolTip(Flops, tr("Forward FLOPs per image (2 per multiply-add)"));
    m_tree->headerItem()->setToolTip(
        Field, tr("Receptive field: how many input pixels one unit of the output sees, "
                  "r = r_prev + (k − 1)·d·j_prev with j the product of the strides so far. Two "
                  "3×3 convolutions see 5×5, three see 7×7 (the VGG slide); a stride or a pool "
                  "doubles what every later layer adds"));
    m_tree->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_tree->setAlternatingRowColors(true);
    m_tree->setUniformRowHeights(true);
    m_tree->header()->setStretchLastSection(false);
    // Numbers always fit (whatever the font: presenter mode); the settings take the rest and
    // the names elide first.
    m_tree->header()->setSectionResizeMode(Settings, QHeaderView::Stretch);
    for (int c : {Type, Output, Field, Params, Flops})
        m_tree->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    m_tree->setTextElideMode(Qt::ElideMiddle);
    connect(m_tree, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem* item, int col) {
        if ((col == Name || col == Settings) && (item->flags() & Qt::ItemIsEditable))
            m_tree->editItem(item, col);
    });
    connect(m_tree, &QTreeWidget::itemChanged, this, &BuildView::onItemChanged);
    // A rebuild put off while an editor was open runs once it has closed (queued: the view is
    // still closing it).
    static_cast<LayerTree*>(m_tree)->editorClosed = [this] {
        QMetaObject::invokeMethod(
            this,
            [this] {
                if (m_refreshQueued)
                    refresh();
            },
            Qt::QueuedConnection);
    };
    auto* f2 = new QShortcut(QKeySequence(Qt::Key_F2), m_tree);
    f2->setContext(Qt::WidgetShortcut);
    connect(f2, &QShortcut::activated, this, [this] {
        if (QTreeWidgetItem* item = m_tree->currentItem();
            item && (item->flags() & Qt::ItemIsEditable))
            m_tree->editItem(item, m_tree->currentColumn() == Name ? Name : Settings);
    });
    m_error = new QLabel;
    m_error->setObjectName("build error");
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setStyleSheet("QLabel { color: #b00020; font-weight: bold; }");
    m_totals = new QLabel;
    auto* box = new QVBoxLayout(this);
    box->addWidget(buildToolbar());
    // The network's name and description: Save and the run folder use them.
    m_name = new QLineEdit;
    m_name->setObjectName("network name");
    m_name->setToolTip(tr("The network's name: the file name when saved, the run folder's name"));
    m_about = new QLineEdit;
    m_about->setObjectName("network description");
    m_about->setPlaceholderText(tr("what this network shows"));
    auto commitNames = [this] {
        QJsonObject spec = m_spec;
        const QString name = m_name->text().trimmed();
        if (!name.isEmpty())
            spec["name"] = name;
        if (m_about->text().trimmed().isEmpty())
            spec.remove("description");
        else
            spec["description"] = m_about->text().trimmed();
        setSpec(spec, tr("Rename the network"));
    };
    connect(m_name, &QLineEdit::editingFinished, this, commitNames);
    connect(m_about, &QLineEdit::editingFinished, this, commitNames);
    auto* names = new QHBoxLayout;
    names->addWidget(new QLabel(tr("Name")));
    names->addWidget(m_name, 1);
    names->addWidget(new QLabel(tr("Description")));
    names->addWidget(m_about, 3);
    box->addLayout(names);
    box->addWidget(m_description);
    box->addWidget(m_tree, 1);
    box->addWidget(m_error);
    box->addWidget(m_totals);
}

QWidget* BuildView::buildToolbar() {
    auto* bar = new QWidget;
    auto* row = new QHBoxLayout(bar);
    row->setContentsMargins(0, 0, 0, 0);
    auto button = [&](const QString& text, const QString& tip, const QKeySequence& key, auto slot) {
        auto* b = new QToolButton;
        auto* a = new QAction(text, this);
        a->setToolTip(tip + (key.isEmpty() ? QString() : " (" + key.toString() + ")"));
        a->setShortcut(key);
        a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        connect(a, &QAction::triggered, this, slot);
        addAction(a);
        b->setDefaultAction(a);
        row->addWidget(b);
        return b;
    };
    auto* add = new QToolButton;
    add->setText(tr("Add layer"));
    add->setToolTip(tr("Insert a layer after the selected one"));
    add->setPopupMode(QToolButton::InstantPopup);
    auto* menu = new QMenu(add);
    menu->setToolTipsVisible(true);
    for (const QString type : {"conv2d", "max_pool2d", "avg_pool2d", "global_avg_pool", "relu",
                               "leaky_relu", "sigmoid", "tanh", "batch_norm", "layer_norm",
                               "dropout", "flatten", "linear", "residual", "concat"}) {
        QAction* a = menu->addAction(type, this, [this, type] { addLayer(type); });
        a->setToolTip(typeTip(type));
    }
    add->setMenu(menu);
    row->addWidget(add);
    button(tr("Remove"), tr("Remove the selected layer"), QKeySequence::Delete,
           [this] { removeCurrent(); });
    button(tr("Up"), tr("Move the selected layer up"), QKeySequence(Qt::CTRL | Qt::Key_Up),
           [this] { moveCurrent(-1); });
    button(tr("Down"), tr("Move the selected layer down"), QKeySequence(Qt::CTRL | Qt::Key_Down),
           [this] { moveCurrent(1); });
    button(tr("Wrap in residual block"),
           tr("Make the selected layer the body of a residual block H(x) = F(x) + x"),
           QKeySequence(Qt::CTRL | Qt::Key_R), [this] { wrapCurrentInResidual(); });
    row->addStretch(1);
    return bar;
}

QByteArray BuildView::specJson() const {
    return QJsonDocument(m_spec).toJson(QJsonDocument::Indented);
}

void BuildView::setSpec(const QJsonObject& spec, const QString& what) {
    if (spec == m_spec)
        return;
    m_undo->push(new SpecCommand(this, m_spec, spec, what));
}

void BuildView::newNetwork() {
    // An input and a classifier: the smallest network that trains (a linear model).
    QJsonObject spec{{"name", tr("my-network")},
                     {"description", tr("a new network: add layers before the classifier")},
                     {"layers", QJsonArray{QJsonObject{
                                    {"type", "linear"}, {"name", "classifier"}, {"out", 10}}}}};
    if (!m_input.isEmpty())
        spec["input"] = QJsonArray{m_input[0], m_input[1], m_input[2]};
    else
        spec["input"] = QJsonArray{1, 28, 28};
    setSpec(spec, tr("New network"));
}

bool BuildView::loadPreset(const QString& name) {
    const QJsonDocument d = QJsonDocument::fromJson(TrainingSession::presetJson(name));
    if (!d.isObject())
        return false;
    setSpec(d.object(), tr("Load preset %1").arg(name));
    return true;
}

void BuildView::setInput(const QVector<int>& chw) {
    m_input = chw;
    if (!chw.isEmpty())
        apply(m_spec);
}

void BuildView::apply(const QJsonObject& spec) {
    if (!m_committing) // an edit that moves rows, or undo: the open editor's row may go away
        static_cast<LayerTree*>(m_tree)->discardEditor();
    m_spec = spec;
    if (!m_input.isEmpty())
        m_spec["input"] = QJsonArray{m_input[0], m_input[1], m_input[2]};
    refresh();
}

// Rebuilds the tree, after the in-place editor has closed when one is open (its item is about to
// be deleted).
void BuildView::refresh() {
    m_refreshQueued = static_cast<LayerTree*>(m_tree)->editing();
    if (!m_refreshQueued)
        rebuild();
}

void BuildView::commitEdit() {
    static_cast<LayerTree*>(m_tree)->commitEditor();
    if (m_refreshQueued)
        refresh(); // the editor is closed now: valid() and spec() are up to date
}

QTreeWidgetItem* BuildView::itemOfRow(int row) const {
    return row >= 0 && row < m_rows.size() ? m_rows[row] : nullptr;
}

void BuildView::rebuild() {
    const DeferredFit fit(m_tree->header());
    m_rebuilding = true;
    Path keep = m_select;
    if (keep.isEmpty() && m_tree->currentItem())
        keep = m_tree->currentItem()->data(Name, Qt::UserRole).toList();
    m_select.clear();
    m_tree->clear();
    m_rows.clear();
    QTreeWidgetItem* current = nullptr;
    std::function<void(QTreeWidgetItem*, const QJsonArray&, const Path&)> addLayers =
        [&](QTreeWidgetItem* parent, const QJsonArray& layers, const Path& at) {
            for (int i = 0; i < layers.size(); ++i) {
                const QJsonObject l = layers[i].toObject();
                const Path path = Path(at) << i;
                auto* item = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(m_tree);
                item->setData(Name, Qt::UserRole, path);
                item->setFlags(item->flags() | Qt::ItemIsEditable);
                const QString type = l.value("type").toString();
                item->setText(Name, l.value("name").toString());
                item->setText(Type, type);
                item->setToolTip(Type, typeTip(type));
                item->setText(Settings, settingsText(l));
                if (path == keep)
                    current = item;
                m_rows << item;
                if (type == "residual")
                    addLayers(item, l.value("body").toArray(), Path(path) << "body");
                const QJsonArray branches = l.value("branches").toArray();
                for (int b = 0; b < branches.size(); ++b) {
                    auto* branch = new QTreeWidgetItem(item);
                    const Path bp = Path(path) << "branches" << b;
                    branch->setData(Name, Qt::UserRole, bp);
                    branch->setText(Name, tr("branch %1").arg(b + 1));
                    branch->setForeground(Name, QColor(0x60, 0x60, 0x60));
                    if (bp == keep)
                        current = branch;
                    addLayers(branch, branches[b].toArray(), bp);
                }
            }
        };
    addLayers(nullptr, m_spec.value("layers").toArray(), Path{"layers"});
    m_check = TrainingSession::checkSpec(specJson());
    const QLocale locale = QLocale::system();
    for (int r = 0; r < m_rows.size(); ++r) {
        QTreeWidgetItem* item = m_rows[r];
        if (r < m_check.rows.size()) {
            const SpecRow& row = m_check.rows[r];
            if (item->text(Name).isEmpty()) // the engine's generated name
                item->setText(Name, row.path.section('.', -1));
            item->setText(Output, row.output);
            item->setText(Params, row.output.isEmpty() ? QString() : locale.toString(row.params));
            item->setText(Flops, row.output.isEmpty() ? QString() : locale.toString(row.flops));
            item->setText(Field, row.rf);
            item->setToolTip(Field, row.rfTip);
            item->setToolTip(Settings, row.detail);
        }
        if (r == m_check.errorRow) {
            for (int c = 0; c < Columns; ++c) {
                item->setBackground(c, QColor(0xff, 0xd6, 0xd6));
                item->setToolTip(c, m_check.error);
            }
            item->setText(Output, tr("error"));
        } else if (item->text(Output).isEmpty()) {
            item->setText(Output, QStringLiteral("—"));
        }
        for (int c : {Field, Params, Flops})
            item->setTextAlignment(c, Qt::AlignRight | Qt::AlignVCenter);
    }
    m_tree->expandAll();
    fitNameColumn();
    if (current)
        m_tree->setCurrentItem(current);
    if (QTreeWidgetItem* bad = itemOfRow(m_check.errorRow))
        m_tree->scrollToItem(bad);
    m_error->setText(m_check.ok ? QString() : m_check.error);
    m_error->setVisible(!m_check.ok);
    if (!m_refused.isEmpty()) { // why the last edit was refused
        m_error->setText(m_refused);
        m_error->setVisible(true);
        m_refused.clear();
    }
    if (!m_name->hasFocus())
        m_name->setText(m_spec.value("name").toString());
    if (!m_about->hasFocus())
        m_about->setText(m_spec.value("description").toString());
    m_description->setText(QString("<b>%1</b> %2")
                               .arg(m_spec.value("name").toString().toHtmlEscaped(),
                                    m_spec.value("description").toString().toHtmlEscaped()));
    m_totals->setText(m_check.ok
                          ? tr("Input %1 → output %2 · %3 parameters · %4 MFLOPs per image")
                                .arg(m_check.input, m_check.output, locale.toString(m_check.params))
                                .arg(double(m_check.flops) / 1e6, 0, 'f', 2)
                          : tr("Fix the network to train it: Train is disabled"));
    m_rebuilding = false;
    emit specChanged(m_check.ok);
}

void BuildView::onItemChanged(QTreeWidgetItem* item, int column) {
    if (m_rebuilding)
        return;
    const Path path = item->data(Name, Qt::UserRole).toList();
    if (isBranch(path) || (column != Name && column != Settings))
        return;
    // Between here and setSpec() an open editor is committing: apply() must not close it.
    m_committing = true;
    const auto done = qScopeGuard([this] { m_committing = false; });
    const QJsonValue old = valueAt(m_spec, path);
    m_select = path;
    if (!old.isObject()) // an item of a tree that is about to be rebuilt
        return refresh();
    auto refuse = [this](const QString& why) {
        m_refused = why;
        refresh(); // back to the spec's text, with the reason
    };
    QJsonObject layer = old.toObject();
    QString what;
    if (column == Name) {
        const QString name = item->text(Name).trimmed();
        if (name.isEmpty())
            layer.remove("name");
        else
            layer["name"] = name;
        what = tr("Rename %1").arg(name);
    } else {
        QJsonObject settings;
        QString error;
        if (!parseSettings(item->text(Settings), settings, &error))
            return refuse(error);
        QJsonObject next;
        for (const QString& k : kStructural)
            if (layer.contains(k))
                next[k] = layer.value(k);
        for (auto it = settings.begin(); it != settings.end(); ++it)
            next[it.key()] = it.value();
        layer = next;
        what = tr("Edit %1").arg(item->text(Name));
    }
    const QJsonObject candidate = withValueAt(m_spec, path, layer).toObject();
    const SpecCheck c = TrainingSession::checkSpec(QJsonDocument(candidate).toJson());
    if (!c.parsed) // not a network at all (an unknown key, a duplicate name): refuse the edit
        return refuse(c.error);
    if (candidate == m_spec)
        return refresh();
    setSpec(candidate, what);
}

void BuildView::addLayer(const QString& type) {
    Path parent{"layers"};
    int index = m_spec.value("layers").toArray().size();
    int channels = 0;
    if (QTreeWidgetItem* item = m_tree->currentItem()) {
        const Path path = item->data(Name, Qt::UserRole).toList();
        if (isBranch(path)) {
            parent = path;
            index = valueAt(m_spec, path).toArray().size();
        } else {
            parent = path.mid(0, path.size() - 1);
            index = path.last().toInt() + 1;
        }
        const qsizetype row = m_rows.indexOf(item);
        if (row >= 0 && row < m_check.rows.size()) {
            const QStringList chw = m_check.rows[row].output.split('x');
            if (chw.size() == 3)
                channels = chw[0].toInt();
        }
    }
    QJsonObject layer = layerTemplate(type, channels);
    NameGiver uniqueName(m_spec);
    layer["name"] = uniqueName(type);
    // The layers inside a block get names too (the checkpoint's tensor names come from them).
    std::function<QJsonArray(QJsonArray)> named = [&](QJsonArray layers) {
        for (int i = 0; i < layers.size(); ++i) {
            QJsonObject l = layers[i].toObject();
            if (!l.contains("name"))
                l["name"] = uniqueName(l.value("type").toString());
            if (l.contains("body"))
                l["body"] = named(l.value("body").toArray());
            layers[i] = l;
        }
        return layers;
    };
    if (layer.contains("body"))
        layer["body"] = named(layer.value("body").toArray());
    if (layer.contains("branches")) {
        QJsonArray branches = layer.value("branches").toArray();
        for (int b = 0; b < branches.size(); ++b)
            branches[b] = named(branches[b].toArray());
        layer["branches"] = branches;
    }
    QJsonArray layers = valueAt(m_spec, parent).toArray();
    layers.insert(index, layer);
    m_select = Path(parent) << index;
    // Numbered in order of position: the prefixes of the layers this adds.
    QSet<QString> prefixes{namePrefix(type)};
    std::function<void(const QJsonArray&)> inner = [&](const QJsonArray& ls) {
        for (const QJsonValue& v : ls) {
            prefixes << namePrefix(v.toObject().value("type").toString());
            inner(v.toObject().value("body").toArray());
        }
    };
    inner(layer.value("body").toArray());
    for (const QJsonValue& b : layer.value("branches").toArray())
        inner(b.toArray());
    setSpec(numberedByPosition(withValueAt(m_spec, parent, layers).toObject(), prefixes),
            tr("Add %1").arg(type));
}

QTreeWidgetItem* BuildView::currentLayer() const {
    QTreeWidgetItem* item = m_tree->currentItem();
    return item && !isBranch(item->data(Name, Qt::UserRole).toList()) ? item : nullptr;
}

void BuildView::removeCurrent() {
    QTreeWidgetItem* item = currentLayer();
    if (!item)
        return;
    const Path path = item->data(Name, Qt::UserRole).toList();
    const Path parent = path.mid(0, path.size() - 1);
    QJsonArray layers = valueAt(m_spec, parent).toArray();
    const int index = path.last().toInt();
    layers.removeAt(index);
    if (!layers.isEmpty())
        m_select = Path(parent) << std::min<int>(index, int(layers.size()) - 1);
    setSpec(withValueAt(m_spec, parent, layers).toObject(), tr("Remove %1").arg(item->text(Name)));
}

void BuildView::moveCurrent(int by) {
    QTreeWidgetItem* item = currentLayer();
    if (!item)
        return;
    const Path path = item->data(Name, Qt::UserRole).toList();
    const Path parent = path.mid(0, path.size() - 1);
    QJsonArray layers = valueAt(m_spec, parent).toArray();
    const int from = path.last().toInt(), to = from + by;
    if (to < 0 || to >= layers.size())
        return;
    const QJsonValue moving = layers.at(from);
    layers.removeAt(from);
    layers.insert(to, moving);
    m_select = Path(parent) << to;
    setSpec(withValueAt(m_spec, parent, layers).toObject(), tr("Move %1").arg(item->text(Name)));
}

void BuildView::wrapCurrentInResidual() {
    QTreeWidgetItem* item = currentLayer();
    if (!item)
        return;
    const Path path = item->data(Name, Qt::UserRole).toList();
    QJsonObject block{{"type", "residual"},
                      {"name", NameGiver(m_spec)("residual")},
                      {"body", QJsonArray{valueAt(m_spec, path)}},
                      {"shortcut", "identity"}};
    QJsonObject candidate = withValueAt(m_spec, path, block).toObject();
    // An identity shortcut cannot be added when the body changes the shape: use a projection.
    if (TrainingSession::checkSpec(QJsonDocument(candidate).toJson()).errorRow ==
        int(m_rows.indexOf(item))) {
        block["shortcut"] = "projection";
        candidate = withValueAt(m_spec, path, block).toObject();
    }
    m_select = path;
    setSpec(candidate, tr("Wrap %1 in a residual block").arg(item->text(Name)));
}

bool BuildView::openFile(const QString& path, QString* error) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = tr("Cannot read %1: %2").arg(path, f.errorString());
        return false;
    }
    const QByteArray json = f.readAll();
    const SpecCheck c = TrainingSession::checkSpec(json);
    const QJsonDocument d = QJsonDocument::fromJson(json);
    if (!c.parsed || !d.isObject()) {
        *error = tr("%1 is not a network: %2").arg(path, c.error);
        return false;
    }
    setSpec(d.object(), tr("Open %1").arg(QFileInfo(path).fileName()));
    return true;
}

bool BuildView::saveFile(const QString& path, QString* error) const {
    QSaveFile f(path); // a temporary file, renamed on commit: never half a file
    if (!f.open(QIODevice::WriteOnly) || f.write(specJson()) < 0 || !f.commit()) {
        *error = tr("Cannot write %1: %2").arg(path, f.errorString());
        return false;
    }
    return true;
}

void BuildView::fitNameColumn() {
    m_tree->resizeColumnToContents(Name);
    m_tree->setColumnWidth(Name, std::min(m_tree->columnWidth(Name), m_tree->width() / 3));
}

void BuildView::changeEvent(QEvent* e) {
    View::changeEvent(e);
    if (e->type() == QEvent::FontChange && m_tree)
        fitNameColumn();
}

bool BuildView::exportCsv(const QString& path) {
    return writeText(path, [this](QTextStream& out) {
        out << "row,path,type,output,params,flops,detail\n";
        for (qsizetype i = 0; i < m_check.rows.size(); ++i) {
            const SpecRow& r = m_check.rows[i];
            out << i + 1 << ',' << r.path << ',' << r.type << ',' << r.output << ',' << r.params
                << ',' << r.flops << ',' << quoted(r.detail) << '\n';
        }
    });
}

} // namespace convscope::ui
