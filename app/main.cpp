// convscope: the desktop window (LeNet-5 on Fashion-MNIST by default).
#include "main_window.h"

#include <QApplication>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("convscope");
    QApplication::setOrganizationName("convscope");
    convscope::ui::MainWindow window;
    window.show();
    return QApplication::exec();
}
